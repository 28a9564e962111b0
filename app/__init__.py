"""PTO-WSP Studio desktop app."""
