"""The process settings every entry point applies first (startup.py: start()), each in its own module with the dependency version it was measured against."""
