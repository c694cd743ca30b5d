"""Reading the version (and a few facts) out of what kustomize, kubectl, minikube, docker, git and nvidia-smi print.

Pure functions over text, because the formats are the hard part: each tool changed its output over the years
(kustomize alone printed four shapes), distro builds print `unknown`, and a user with an old tool must get a
clear verdict rather than a crash. Anything not understood comes back as `version=None` with the raw text, which
the checks turn into a warning that shows it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kfinstall.release.version import Version

_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class ToolVersion:
    """A tool's version as found in its output: `version` None when the output could not be understood."""

    version: Version | None
    raw: str

    @property
    def text(self) -> str:
        """The version for humans: `v1.32.0`, or the raw output when it could not be parsed."""
        return str(self.version) if self.version else (self.raw.strip() or "(no output)")


def _first_semver(text: str) -> Version | None:
    match = _SEMVER.search(text)
    return Version(int(match[1]), int(match[2]), int(match[3])) if match else None


def _unknown(raw: str) -> ToolVersion:
    return ToolVersion(None, raw)


def parse_kustomize_version(output: str) -> ToolVersion:
    """`kustomize version` in each shape it has had:

    - ≤3.2.0: `Version: {KustomizeVersion:3.2.0 GitCommit:… BuildDate:… GoOs:linux GoArch:amd64}`
    - 3.2.1–3.3: `Version: {Version:kustomize/v3.2.1 GitCommit:… }`
    - 3.4–4.x: `{Version:kustomize/v4.5.7 GitCommit:… }`; distro builds `{Version:3.8.2 …}` or `{Version:unknown …}`
    - v5+: a bare `v5.0.0` (`(devel)` for `go install` builds)
    """
    text = output.strip()
    field_match = re.search(r"\b(?:KustomizeVersion|Version):(\S+)", text)
    if field_match:
        value = field_match[1].removeprefix("kustomize/")
        found = _SEMVER.fullmatch(value) or _SEMVER.match(value)
        return ToolVersion(_first_semver(found[0]) if found else None, output)
    first_line = text.splitlines()[0].strip() if text else ""
    bare = re.fullmatch(r"(?:kustomize/)?(v?\d+\.\d+\.\d+)(?:[-+]\S*)?", first_line)
    if bare:
        return ToolVersion(_first_semver(bare[1]), output)
    return _unknown(output)


def parse_kubectl_client_version(output: str) -> ToolVersion:
    """`kubectl version --client -o json` (any kubectl), or the plain text form.

    Plain text up to 1.27: `Client Version: version.Info{Major:"1", Minor:"19", GitVersion:"v1.19.3", …}`;
    from 1.28: `Client Version: v1.28.2` then `Kustomize Version: v5.0.4-…`.
    """
    data = _json_object(output)
    if data is not None:
        return _from_version_info(data.get("clientVersion"), output)
    match = re.search(r"Client Version:\s*(?:version\.Info\{.*?GitVersion:\"([^\"]+)\"|(v\S+))", output)
    if match:
        return ToolVersion(_first_semver(match[1] or match[2]), output)
    return _unknown(output)


def parse_kubectl_kustomize_version(output: str) -> ToolVersion:
    """The kustomize embedded in kubectl (≥ 1.24): `kustomizeVersion` in the json, `Kustomize Version:` in text."""
    data = _json_object(output)
    if data is not None:
        value = data.get("kustomizeVersion")
        return ToolVersion(_first_semver(value) if isinstance(value, str) else None, output)
    match = re.search(r"Kustomize Version:\s*(\S+)", output)
    return ToolVersion(_first_semver(match[1]) if match else None, output)


def parse_kubectl_server_version(output: str) -> ToolVersion:
    """The server side of `kubectl version -o json` (`serverVersion.gitVersion`), or of the plain text form."""
    data = _json_object(output)
    if data is not None:
        return _from_version_info(data.get("serverVersion"), output)
    match = re.search(r"Server Version:\s*(?:version\.Info\{.*?GitVersion:\"([^\"]+)\"|(v\S+))", output)
    if match:
        return ToolVersion(_first_semver(match[1] or match[2]), output)
    return _unknown(output)


def _from_version_info(info: Any, raw: str) -> ToolVersion:
    if isinstance(info, dict):
        git_version = info.get("gitVersion")
        if isinstance(git_version, str) and _first_semver(git_version):
            return ToolVersion(_first_semver(git_version), raw)
        major, minor = str(info.get("major", "")), str(info.get("minor", "")).rstrip("+")
        if major.isdigit() and minor.isdigit():
            return ToolVersion(Version(int(major), int(minor), 0), raw)
    return _unknown(raw)


def parse_minikube_version(output: str) -> ToolVersion:
    """`minikube version --output=json` (`{"commit":…,"minikubeVersion":"v1.32.0"}`), plain
    (`minikube version: v1.32.0` + `commit: …`) or `--short` (`v1.32.0`)."""
    data = _json_object(output)
    if data is not None:
        value = data.get("minikubeVersion")
        return ToolVersion(_first_semver(value) if isinstance(value, str) else None, output)
    match = re.search(r"minikube version:\s*(v?\d+\.\d+\.\d+\S*)", output)
    if match:
        return ToolVersion(_first_semver(match[1]), output)
    first_line = output.strip().splitlines()[0].strip() if output.strip() else ""
    if re.fullmatch(r"v?\d+\.\d+\.\d+(?:[-+]\S*)?", first_line):
        return ToolVersion(_first_semver(first_line), output)
    return _unknown(output)


def parse_git_version(output: str) -> ToolVersion:
    """`git --version`: `git version 2.43.0`, or on macOS `git version 2.39.3 (Apple Git-145)`."""
    match = re.search(r"git version (\d+\.\d+(?:\.\d+)?)", output)
    if not match:
        return _unknown(output)
    parts = [int(p) for p in match[1].split(".")]
    return ToolVersion(Version(parts[0], parts[1], parts[2] if len(parts) > 2 else 0), output)


@dataclass(frozen=True)
class DockerInfo:
    """What `docker info --format '{{json .}}'` says about the daemon (`error` set when it is unreachable)."""

    reachable: bool
    error: str | None = None
    server_version: str | None = None
    cpus: int | None = None
    memory_mb: int | None = None
    runtimes: tuple[str, ...] = field(default=())
    default_runtime: str | None = None


def parse_docker_info(stdout: str, stderr: str = "") -> DockerInfo:
    """Docker ≥ 23 exits 0 for `info --format` even when the daemon is down (docker/cli#5900): it renders the
    template against empty server info and reports `ServerErrors`. So reachability is read from the content."""
    data = _json_object(stdout)
    errors: list[str] = []
    if data is not None:
        server_errors = data.get("ServerErrors") or []
        errors = [str(e) for e in server_errors if e]
    if data is None or errors or not data.get("ServerVersion"):
        reason = errors[0] if errors else (_first_line(stderr) or _first_line(stdout) or "no answer from the daemon")
        return DockerInfo(reachable=False, error=reason)
    memory = data.get("MemTotal")
    runtimes = data.get("Runtimes") or {}
    return DockerInfo(
        reachable=True,
        server_version=str(data.get("ServerVersion")),
        cpus=int(data["NCPU"]) if isinstance(data.get("NCPU"), int) and data["NCPU"] > 0 else None,
        memory_mb=int(memory) // (1024 * 1024) if isinstance(memory, int) and memory > 0 else None,
        runtimes=tuple(sorted(runtimes)) if isinstance(runtimes, dict) else (),
        default_runtime=data.get("DefaultRuntime") or None,
    )


def parse_nvidia_smi_list(output: str) -> list[str]:
    """The GPU names `nvidia-smi -L` lists (`GPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-…)`); [] when it failed."""
    return [m[1].strip() for m in re.finditer(r"^GPU \d+: (.+?)(?: \(UUID: [^)]*\))?\s*$", output, re.MULTILINE)]


def _json_object(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(text[start:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
