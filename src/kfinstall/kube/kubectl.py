"""kubectl as kfinstall uses it: one context, JSON in and out, server-side apply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfinstall import runner
from kfinstall.errors import KfError

Obj = dict[str, Any]


@dataclass(frozen=True)
class Kubectl:
    """kubectl bound to one kubeconfig context (None: the current context)."""

    context: str | None = None

    def run(self, *args: str, input: str | None = None, timeout: float | None = 120,
            stdout_to: Path | None = None, log_input: bool = True) -> runner.Result:  # fmt: skip
        base = ("--context", self.context) if self.context else ()
        return runner.run("kubectl", *base, *args, input=input, timeout=timeout, stdout_to=stdout_to,
                          log_input=log_input)  # fmt: skip

    def get_json(self, *args: str, timeout: float | None = 60) -> Obj:
        """`kubectl get ARGS -o json`, parsed; a failure is a KfError carrying kubectl's message."""
        result = self.run("get", *args, "-o", "json", timeout=timeout)
        if not result.ok:
            # kubectl's error is on stderr; stdout may hold the empty `List` it printed anyway (`-o json`)
            why = result.stderr.strip() or result.output
            raise KfError(f"kubectl get {' '.join(args)} failed: {why}", "is the cluster running?")
        return json.loads(result.stdout) if result.stdout.strip() else {}  # empty: --ignore-not-found

    def items(self, *args: str, timeout: float | None = 60) -> list[Obj]:
        """The objects of a `kubectl get ... -o json` list."""
        data = self.get_json(*args, timeout=timeout)
        if data.get("kind", "").endswith("List") or "items" in data:
            return list(data.get("items") or [])
        return [data] if data else []  # `kubectl get KIND NAME` of a single object prints the object itself

    def apply(self, payload: str, *, field_manager: str, timeout: float | None = 300) -> runner.Result:
        """Server-side apply of a JSON/YAML stream.

        Server-side because Kubeflow's large CRDs overflow client-side apply's last-applied annotation;
        `--force-conflicts` because kfinstall owns what it applies; one field manager per component so two
        components sharing an object (a namespace, say) do not remove each other's fields.
        """
        return self.run(
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={field_manager}",
            "-f",
            "-",
            input=payload,
            timeout=timeout,
        )

    def delete_pod(self, namespace: str, name: str) -> runner.Result:
        """Delete one pod, not waiting for it to go: its controller (ReplicaSet, StatefulSet) makes a new one."""
        return self.run("delete", "pod", "-n", namespace, name, "--wait=false", "--ignore-not-found", timeout=30)
