"""The commands, one module per command: each does its work and returns what the CLI renders."""
