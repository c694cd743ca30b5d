"""kfinstall: from a bare machine to a working Kubeflow on minikube in one command."""

__version__ = "0.1.0"
