"""Fake minikube / docker / nvidia-smi / kustomize executables that print what the real tools print."""
