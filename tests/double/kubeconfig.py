"""Writing a kubeconfig entry for a double, merging like minikube does into an existing file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _upsert(entries: list[dict[str, Any]], name: str, key: str, value: dict[str, Any]) -> list[dict[str, Any]]:
    out = [e for e in entries if e.get("name") != name]
    out.append({"name": name, key: value})
    return out


def write_kubeconfig(path: Path | str, *, context: str, server_url: str) -> Path:
    """Merge a cluster, user and context named `context` into `path` (created if missing); make it current.

    Plain HTTP needs no certificates; the user gets a static token so kubectl sends an Authorization header like it
    would to a real cluster (the double ignores it).
    """
    import yaml

    path = Path(path)
    config: dict[str, Any] = {}
    if path.is_file():
        config = yaml.safe_load(path.read_text()) or {}
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    config.setdefault("preferences", {})
    config["clusters"] = _upsert(config.get("clusters") or [], context, "cluster", {"server": server_url})
    config["users"] = _upsert(config.get("users") or [], context, "user", {"token": "double-token"})
    config["contexts"] = _upsert(
        config.get("contexts") or [], context, "context", {"cluster": context, "user": context, "namespace": "default"}
    )
    config["current-context"] = context
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
