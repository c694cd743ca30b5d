"""Is the cluster still there? Told apart from an API server that is only restarting.

While `up` waits (for a webhook, a rollout) the cluster may be deleted under it (`minikube delete` in another
terminal). kubectl then fails with `connection refused` or `context "x" does not exist`, which the waits retry as
a restarting API server would need: 1,382 failed calls in 5 minutes, silently, until the component timeout.
A restart and a deletion look the same from the API server's side; they differ in what is left on this machine:

- a deleted minikube profile: `minikube status -p P` exits 85, minikube's "profile not found"
  (kubernetes/minikube pkg/minikube/mustload `Partial` exits with reason `ExGuestNotFound`), while a
  restarting one still exists (`APIServer: Stopped` or `Starting`);
- the kubeconfig context removed (`minikube delete` removes it, pkg/minikube/kubeconfig `DeleteContext`; a user's
  `kubectl config delete-context`), while a restart leaves it.

So when the API server stops answering, `Presence.check` looks (at most every `every` seconds: two local calls,
no network) and raises ClusterGone when either is gone; a restart is waited out as before.
"""

from __future__ import annotations

import threading
import time

from kfinstall import runner
from kfinstall.errors import KfError, NotInstalled
from kfinstall.minikube import cluster


class ClusterGone(KfError):
    """The cluster `up` installs into no longer exists: stop at once, nothing more can be applied."""


def require_cluster(context: str, minikube_profile: str | None) -> None:
    """Before a command acts on an install (verify, port-forward, password): `NotInstalled` (exit 3) when there is
    no cluster to act on, the minikube profile (without `--context`) or the kubeconfig context missing, instead of
    kubectl's `context "kubeflow" does not exist` as a failure (exit 1), retried by port-forward."""
    if minikube_profile is not None and cluster.profile_state(minikube_profile).status == "missing":
        raise NotInstalled(
            f"there is no minikube profile {minikube_profile!r}: nothing is installed",
            "install Kubeflow with `kfinstall up` (or name another profile with -p, a cluster with --context)",
        )
    if not Presence._context_exists(context):
        raise NotInstalled(
            f"there is no kubeconfig context {context!r}: nothing is installed there",
            "`kubectl config get-contexts` lists the contexts; `kfinstall up` installs on minikube",
        )


class Presence:
    """Checks that the context (and the minikube profile it belongs to, if any) still exist."""

    #: What `up` suggests; another command says what fits it (`port-forward`: create it with `kfinstall up`).
    AGAIN = "it was deleted while kfinstall ran: run the same `kfinstall up` again to create it and install anew"

    def __init__(
        self, context: str | None, minikube_profile: str | None = None, *, every: float = 2.0, hint: str = AGAIN
    ) -> None:
        self.context = context
        self.minikube_profile = minikube_profile
        self.every = every
        self.hint = hint
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._gone: ClusterGone | None = None

    def check(self) -> None:
        """Raise ClusterGone if the cluster is gone; at most one look per `every` seconds (others return)."""
        with self._lock:
            if self._gone is None and time.monotonic() - self._last >= self.every:
                self._last = time.monotonic()
                self._gone = self._look()
            gone = self._gone
        if gone is not None:
            raise gone

    def _look(self) -> ClusterGone | None:
        """The context first (one local kubectl call); the minikube profile too, to name what was deleted."""
        hint = self.hint
        context_gone = self.context is not None and not self._context_exists(self.context)
        if self.minikube_profile is not None and cluster.profile_state(self.minikube_profile).status == "missing":
            return ClusterGone(
                f"the cluster is gone: minikube profile {self.minikube_profile!r} no longer exists "
                "(deleted, e.g. by `minikube delete`)",
                hint,
            )
        if context_gone:
            return ClusterGone(f"the cluster is gone: kubeconfig context {self.context!r} no longer exists", hint)
        return None

    @staticmethod
    def _context_exists(context: str) -> bool:
        result = runner.run("kubectl", "config", "get-contexts", "-o", "name", timeout=30)
        return not result.ok or context in result.stdout.split()  # kubectl itself failing proves nothing
