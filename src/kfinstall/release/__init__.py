"""The pinned Kubeflow releases: their schema, version type, component selection and support tables."""
