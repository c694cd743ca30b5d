"""The minikube cluster: start or reuse it with a release's settings, and read its option values."""
