"""Pytest fixtures for the cluster double (see tests/README.md)."""
