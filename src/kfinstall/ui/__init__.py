"""The one door for output: tables, live progress, the status screen, terminal encoding."""
