"""The pinned Kubeflow releases: their schema, version type, component selection, default choice, support tables."""
