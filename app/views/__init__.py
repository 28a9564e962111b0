"""Run views: cycle timeline (pyqtgraph), sources, stats, diagnostics."""
