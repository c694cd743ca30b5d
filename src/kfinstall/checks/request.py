"""What a check is asked (`CheckRequest`: the release and the machine settings) and what it answers
(`CheckResult`: one verdict with its fix), shared by the gathering and by every verdict module."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from kfinstall.minikube.options import parse_k8s_version
from kfinstall.release.pins import Pins, Release
from kfinstall.release.version import Version
from kfinstall.runner import Result

Status = Literal["ok", "warn", "fail"]


DEFAULT_DRIVER = "docker"


@dataclass(frozen=True)
class CheckResult:
    """One verdict: what was `found`, what is `required`, what it means, and a concrete fix (`hint`)."""

    name: str
    status: Status
    found: str
    required: str
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class CheckRequest:
    """What the user wants to run: the release and profile, and the machine settings (None = defaults)."""

    release: Release
    profile: str = "standard"
    cpus: int | None = None
    memory_mb: int | None = None
    k8s_version: str | None = None
    driver: str | None = None
    gpus: str | None = None
    context: str | None = None
    #: All pinned releases, to suggest one this machine can run when the chosen one cannot.
    pins: Pins | None = None
    #: Also ask the registries for the images of the plan (`check --images`: needs the manifests and the network).
    images: bool = False
    #: Why this release was chosen when -k did not name it (shown by `check`).
    choice_reason: str | None = None

    @property
    def kubernetes(self) -> Version:
        """The Kubernetes version minikube will be asked for (a UsageError when --k8s-version is malformed)."""
        return parse_k8s_version(self.k8s_version or self.release.kubernetes.default)

    @property
    def effective_driver(self) -> str:
        return self.driver or DEFAULT_DRIVER

    @property
    def uses_minikube(self) -> bool:
        return self.context is None


def failed(results: list[CheckResult]) -> list[CheckResult]:
    """The verdicts that stop `up` (and make `check` exit 1)."""
    return [r for r in results if r.status == "fail"]


def raw_output(result: Result) -> str:
    """A tool's answer on one line of at most 120 characters, for the `found` of a verdict that cannot read it."""
    text = (result.stdout.strip() or result.stderr.strip() or f"exit code {result.exit_code}").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def first_line(text: str) -> str:
    """The first non-blank line of `text` (stripped), or `text` itself when it has none."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return text
