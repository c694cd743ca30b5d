"""Kubeflow's gateway as a user meets it: an HTTP session with cookies, each release's login flow, the verdicts."""
