"""The cluster double: a simulated Kubernetes API server that the real kubectl works against."""
