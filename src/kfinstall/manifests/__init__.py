"""kubeflow/manifests: the pinned checkout, kustomize builds, the built objects and the login in them."""
