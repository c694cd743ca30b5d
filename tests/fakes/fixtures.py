"""Pytest fixtures that put the fake tools first on PATH (see tests/fakes/README.md)."""
