"""Prerequisite checks: what this machine, its tools and the registries offer against a release's needs."""
