"""PTO-WSP Studio desktop app."""

APP_NAME = "PTO-WSP Studio"
ORGANIZATION = "PTO-WSP"  # with the application name "Studio": the QSettings keys
