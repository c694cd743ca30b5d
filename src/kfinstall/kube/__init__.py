"""Talking to a cluster: kubectl, watches, readiness, apply failures, the install record, health."""
