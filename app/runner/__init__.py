"""Runs exported DSL scripts in a worker process and reads results back."""
