"""Fake `minikube`: version, start (with the real release's flag validation), status, stop, delete, profiles.

The messages, reason ids and exit codes come from minikube's sources (cmd/minikube/cmd/start.go, start_flags.go,
status.go, pkg/minikube/reason, pkg/minikube/mustload); see tests/fakes/README.md for what is simulated.
Knobs: FAKE_MINIKUBE_VERSION (default v1.37.0), FAKE_MINIKUBE_PLATFORM, FAKE_MINIKUBE_DOUBLE_ARGS,
FAKE_MINIKUBE_START_TIMEOUT, FAKE_MINIKUBE=absent, and the host knobs of common.py / docker.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes import common
from tests.fakes import minikube_cluster as cluster
from tests.fakes.minikube_out import Exit, err, fail, ln, step, usage_error, warning

DEFAULT_PROFILE = "minikube"


@dataclass(frozen=True)
class Release:
    """What one minikube release line accepts and prints."""

    oldest_k8s: str
    default_k8s: str
    newest_k8s: str
    docker_in_node: str
    commit: str


#: minikube minor -> facts. Oldest Kubernetes: v1.16.0 from v1.25 (PR #12973), v1.20.0 from v1.33 (PR #18264),
#: v1.28.0 from v1.37. Commits of v1.32.0 and v1.37.0 are the real ones; the others are stand-ins of that shape.
RELEASES: dict[int, Release] = {
    24: Release("v1.14.0", "v1.23.3", "v1.23.4-rc.0", "20.10.12", "3e64b11ed75e56e4898ea85f96b2e4af0301f43d"),
    25: Release("v1.16.0", "v1.23.3", "v1.23.4-rc.0", "20.10.12", "3e64b11ed75e56e4898ea85f96b2e4af0301f43d"),
    26: Release("v1.16.0", "v1.24.1", "v1.24.1", "20.10.17", "62e108c3dfdec8029a890ad6d8ef96b6461426dc"),
    27: Release("v1.16.0", "v1.25.0", "v1.25.0", "20.10.17", "4243041b7a72319b9be7842a7d34b6767bbdac2b"),
    28: Release("v1.16.0", "v1.25.3", "v1.25.3", "20.10.20", "986b1ebd987211ed16f8cc10aed7d2c42fc8392f"),
    29: Release("v1.16.0", "v1.26.1", "v1.26.1", "20.10.23", "ddac20b4b34a9c8c857fc602203b6ba2679794d3"),
    30: Release("v1.16.0", "v1.26.3", "v1.27.0-rc.0", "23.0.2", "08896fd1dc362c097c925146c4a0d0dac715ace0"),
    31: Release("v1.16.0", "v1.27.4", "v1.28.0-rc.1", "24.0.4", "fd7ecd9c4599bef9f04c0986c4a0187f98a4396e"),
    32: Release("v1.16.0", "v1.28.3", "v1.28.3", "24.0.7", "8220a6eb95f0a4d75f7f2d7b14cef975f050512d"),
    33: Release("v1.20.0", "v1.30.0", "v1.30.0", "26.0.1", "86fc9d54fca63f295d8737c8eacdbb7987e89c67"),
    34: Release("v1.20.0", "v1.31.0", "v1.31.0", "27.2.0", "210b148df93a80eb872ecbeb7e35281b3c582c61"),
    35: Release("v1.20.0", "v1.32.0", "v1.32.0", "27.4.0", "dd5d320e41b5451cdf3c01891bc4e13d189586ed"),
    36: Release("v1.20.0", "v1.33.1", "v1.33.1", "28.1.1", "f8f52f5de11fc6ad8244afac475e1d0f96841df1"),
    37: Release("v1.28.0", "v1.34.0", "v1.34.0", "28.4.0", "65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3"),
    38: Release("v1.28.0", "v1.35.0", "v1.35.0", "29.0.2", "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0"),
}

VALID_EXTRA_CONFIG = ["apiserver", "controller-manager", "scheduler", "etcd", "kubeadm", "kubelet", "kube-proxy"]
KNOWN_DRIVERS = {"docker", "podman", "none", "ssh", "kvm2", "qemu2", "virtualbox", "vmware", "hyperkit", "hyperv"}
MIN_USABLE_MEM = 1800
MIN_RECOMMENDED_MEM = 1900
MIN_DISK_MB = 2000


def parse_semver(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?", text.strip())
    if not match:
        raise ValueError(f"No Major.Minor.Patch elements found in {text!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def minikube_version() -> str:
    version = common.env_str("FAKE_MINIKUBE_VERSION", "v1.37.0")
    return version if version.startswith("v") else "v" + version


def release() -> Release:
    minor = parse_semver(minikube_version())[1]
    return RELEASES.get(minor) or RELEASES[min(RELEASES, key=lambda m: abs(m - minor))]


def at_least(version: str) -> bool:
    return parse_semver(minikube_version()) >= parse_semver(version)


def platform() -> str:
    return common.env_str("FAKE_MINIKUBE_PLATFORM", "Ubuntu 22.04")


# ---- flag parsing (pflag rules: --a=b, --a b, -p b, -pb; bools take no separate value) -------------------

GLOBAL_VALUE = {"profile", "user", "log_dir", "v", "log_file", "vmodule", "stderrthreshold", "logtostderr"}
GLOBAL_BOOL = {"alsologtostderr", "skip-audit", "rootless", "add_dir_header", "skip_headers", "one_output"}
SHORT = {"p": "profile", "o": "output", "v": "v", "f": "format", "n": "node", "l": "layout", "w": "watch"}

START_VALUE = {
    "cpus", "memory", "disk-size", "driver", "vm-driver", "kubernetes-version", "extra-config", "container-runtime",
    "cni", "network-plugin", "addons", "wait", "wait-timeout", "image-repository", "image-mirror-country",
    "base-image", "nodes", "ports", "apiserver-ips", "apiserver-name", "apiserver-names", "apiserver-port",
    "mount-string", "static-ip", "subnet", "listen-address", "feature-gates", "registry-mirror",
    "insecure-registry", "docker-env", "docker-opt", "dns-domain", "service-cluster-ip-range", "iso-url",
    "host-only-cidr", "network", "output", "kvm-network", "cert-expiration", "mount-9p-version", "mount-gid",
    "mount-uid", "mount-ip", "mount-msize", "mount-options", "mount-port", "mount-type", "ssh-ip-address",
    "ssh-user", "ssh-key", "ssh-port", "auto-pause-interval", "binary-mirror", "extra-disks",
}  # fmt: skip
START_BOOL = {
    "force", "delete-on-failure", "dry-run", "keep-context", "embed-certs", "no-kubernetes", "download-only",
    "preload", "install-addons", "interactive", "mount", "auto-update-drivers", "native-ssh", "ha",
    "cache-images", "disable-driver-mounts", "disable-optimizations", "no-vtx-check", "disable-metrics",
    "force-systemd", "host-dns-resolver", "dns-proxy", "kvm-gpu", "kvm-hidden", "nat-nic-type",
}  # fmt: skip


class UnknownFlag(Exception):
    pass


@dataclass
class Parsed:
    flags: dict[str, list[str]] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    after_dashes: list[str] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.flags.get(name)
        return values[-1] if values else default

    def has(self, name: str) -> bool:
        return name in self.flags

    def true(self, name: str) -> bool:
        return (self.get(name) or "false").lower() in ("true", "1", "t")


def parse(args: list[str], value_flags: set[str], bool_flags: set[str]) -> Parsed:
    values = value_flags | GLOBAL_VALUE
    bools = bool_flags | GLOBAL_BOOL
    parsed = Parsed()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            parsed.after_dashes = args[i:]
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
        elif arg.startswith("-") and len(arg) > 1:
            short, rest = arg[1], arg[2:]
            if short not in SHORT:
                raise UnknownFlag(f"unknown shorthand flag: '{short}' in {arg}")
            name = SHORT[short]
            eq, value = ("=", rest.removeprefix("=")) if rest else ("", "")
        else:
            parsed.positional.append(arg)
            continue
        if name in bools:
            parsed.flags.setdefault(name, []).append(value if eq else "true")
        elif name in values:
            if not eq:
                if i >= len(args):
                    raise UnknownFlag(f"flag needs an argument: --{name}")
                value = args[i]
                i += 1
            parsed.flags.setdefault(name, []).append(value)
        else:
            raise UnknownFlag(f"unknown flag: --{name}")
    return parsed


def config_file() -> Path:
    """localpath.ConfigFile(): $MINIKUBE_HOME/.minikube/config/config.json, here under the fakes' state."""
    return common.state_dir() / "minikube" / "config" / "config.json"


def read_config() -> dict[str, Any]:
    path = config_file()
    return json.loads(path.read_text()) if path.is_file() else {}


def write_config(config: dict[str, Any]) -> None:
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(json.dumps(config, indent=4))


def profile_of(parsed: Parsed) -> str:
    """viper's `profile`: the -p flag, else MINIKUBE_PROFILE (setupViper: SetEnvPrefix + AutomaticEnv), else the
    config file's `profile` key (`minikube profile NAME` sets it; cmd/minikube/cmd/root.go initConfig), else the
    flag's default `minikube` (constants.DefaultClusterName)."""
    flag = parsed.get("profile") or os.environ.get("MINIKUBE_PROFILE")
    return flag or read_config().get("profile") or DEFAULT_PROFILE


def unset_active_profile() -> None:
    """cmd/minikube/cmd/delete.go deleteContext: after a profile's context is deleted, `cmdcfg.Unset(ProfileName)`
    (whichever profile was deleted): the next command without -p is back on `minikube`."""
    config = read_config()
    if "profile" in config:
        del config["profile"]
        write_config(config)


def example(profile: str, action: str) -> str:
    """mustload.ExampleCmd: the command line to suggest, with -p only for a non-default profile."""
    return f"minikube {action}" if profile == DEFAULT_PROFILE else f"minikube {action} -p {profile}"


def profile_not_found(profile: str) -> Exit:
    """mustload.Partial for a profile that does not exist: two lines on stdout, exit 85 (ExGuestNotFound)."""
    step("Shrug", f'Profile "{profile}" not found. Run "minikube profile list" to view all profiles.')
    step("Workaround", f'To start a cluster, run: "{example(profile, "start")}"')
    return Exit(85)


def require_running(profile: str) -> None:
    """mustload.Running: the commands that need a running control plane."""
    if not cluster.exists(profile):
        raise profile_not_found(profile)
    if cluster.host_state(profile) != "Running" and cluster.host_state(profile) != "Paused":
        step("Shrug", "The control plane node must be running for this command")
        step("Workaround", f'To start a cluster, run: "{example(profile, "start")}"')
        raise Exit(89)


# ---- size parsing like pkg/util.CalculateSizeInMB (binary units: 1g = 1024mb) ---------------------------


def size_in_mb(text: str) -> int:
    value = text.strip()
    if re.fullmatch(r"\d+", value):
        value += "mb"
    match = re.fullmatch(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?", value)
    if not match:
        raise ValueError(f"FromHumanSize: invalid size: '{text}'")
    number = float(match.group(1))
    power = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}[(match.group(2) or "").lower()]
    return int(number * 1024**power) // (1024 * 1024)


# ---- commands -----------------------------------------------------------------------------------------------


def cmd_version(args: list[str]) -> int:
    parsed = parse(args, {"output"}, {"short", "components", "kubernetes"})
    version, commit = minikube_version(), release().commit
    output = parsed.get("output", "") or ""
    if output == "json":
        print(json.dumps({"commit": commit, "minikubeVersion": version}, separators=(",", ":")))
    elif output == "yaml":
        print(f"commit: {commit}\nminikubeVersion: {version}\n")
    elif output:
        raise fail("MK_OUTPUT_USAGE", 10, "error: --output must be 'yaml' or 'json'")
    elif parsed.true("short") and at_least("v1.18.0"):
        print(version)
    else:
        print(f"minikube version: {version}\ncommit: {commit}")
    return 0


def normalize_k8s(requested: str | None, existing: dict[str, Any] | None) -> str:
    """getKubernetesVersion: the flag, else the profile's version, else the release's default."""
    rel = release()
    value = requested or (existing or {}).get("KubernetesConfig", {}).get("KubernetesVersion") or ""
    if value in ("", "stable"):
        return rel.default_k8s
    if value.lower() in ("latest", "newest"):
        return rel.newest_k8s
    bare = value.lower().removeprefix("v")
    if re.fullmatch(r"\d+\.\d+", bare):
        step("Workaround", f"Using Kubernetes {bare}.0 since patch version was unspecified")
        bare += ".0"
    try:
        parse_semver(bare)
    except ValueError as error:
        raise fail("MK_USAGE", 14, f'Unable to parse "{value}": {error}') from None
    return "v" + bare


def validate_k8s(version: str, existing: dict[str, Any] | None, profile: str, force: bool) -> None:
    """validateKubernetesVersion of the configured release (K8S_OLD_UNSUPPORTED / K8S_DOWNGRADE_UNSUPPORTED)."""
    rel = release()
    shown = version.removeprefix("v")
    details = ". Use `minikube config defaults kubernetes-version` for details." if at_least("v1.26.0") else ""
    if parse_semver(version) > parse_semver(rel.newest_k8s):
        warning(f"Specified Kubernetes version {shown} is newer than the newest supported version: "
                f"{rel.newest_k8s}{details}")  # fmt: skip
    if parse_semver(version) < parse_semver(rel.oldest_k8s):
        warning(f"Specified Kubernetes version {shown} is less than the oldest supported version: "
                f"{rel.oldest_k8s}{details}")  # fmt: skip
        if not force:
            warning("You can force an unsupported Kubernetes version via the --force flag")
            raise fail("K8S_OLD_UNSUPPORTED", 106, f"Kubernetes {shown} is not supported by this release of minikube")
    if existing:
        old = existing["KubernetesConfig"]["KubernetesVersion"]
        if parse_semver(version) < parse_semver(old):
            flag = "" if profile == DEFAULT_PROFILE else f" -p {profile}"
            new, prev = shown, old.removeprefix("v")
            advice = (
                f"1) Recreate the cluster with Kubernetes {new}, by running:\n\n"
                f"minikube delete{flag}\nminikube start{flag} --kubernetes-version=v{new}\n\n"
                f"2) Create a second cluster with Kubernetes {new}, by running:\n\n"
                f"minikube start -p {profile}2 --kubernetes-version=v{new}\n\n"
                f"3) Use the existing cluster at version Kubernetes {prev}, by running:\n\n"
                f"minikube start{flag} --kubernetes-version=v{prev}"
            )
            raise fail(
                "K8S_DOWNGRADE_UNSUPPORTED",
                106,
                f"Unable to safely downgrade existing Kubernetes v{prev} cluster to v{new}",
                style="SeeNoEvil",
                advice=advice,
            )
        default = release().default_k8s
        if parse_semver(default) > parse_semver(version):
            step("New", f"Kubernetes {default.removeprefix('v')} is now available. If you would like to upgrade, "
                 f"specify: --kubernetes-version={default}")  # fmt: skip


def check_driver_mismatch(parsed: Parsed, existing: dict[str, Any], profile: str) -> None:
    """validateSpecifiedDriver: an existing profile keeps its driver (GUEST_DRIVER_MISMATCH, exit 81)."""
    requested = parsed.get("driver") or parsed.get("vm-driver")
    old = existing["Driver"]
    if requested and requested != old:
        raise fail(
            "GUEST_DRIVER_MISMATCH",
            81,
            f'The existing "{profile}" cluster was created using the "{old}" driver, which is incompatible '
            f'with requested "{requested}" driver.',
            style="Conflict",
            advice=f"Delete the existing '{profile}' cluster using: '{example(profile, 'delete')}', or start "
            f"the existing '{profile}' cluster using: '{example(profile, 'start')} --driver={old}'",
        )


def select_driver(parsed: Parsed, existing: dict[str, Any] | None) -> str:
    """selectDriver + validateDriver for the drivers the fake knows (docker's state comes from FAKE_DOCKER)."""
    if existing:
        step("Sparkle", f"Using the {existing['Driver']} driver based on existing profile")
        check_provider(existing["Driver"])
        return existing["Driver"]
    requested = parsed.get("driver") or parsed.get("vm-driver")
    docker = common.docker_state()
    if requested:
        if requested not in KNOWN_DRIVERS:
            raise fail("DRV_UNSUPPORTED_OS", 56, f"The driver '{requested}' is not supported on linux/amd64")
        step("Sparkle", f"Using the {requested} driver based on user configuration")
        check_provider(requested)
        return requested
    if docker == "running":
        step("Sparkle", "Automatically selected the docker driver")
        return "docker"
    step("ThumbsDown", "Unable to pick a default driver. Here is what was considered, in preference order:")
    if docker == "down":
        raise fail(
            "DRV_DOCKER_NOT_RUNNING",
            55,
            "Found docker, but the docker service isn't running. Try restarting the docker service.",
        )
    raise fail(
        "DRV_NOT_DETECTED", 55, "No possible driver was detected. Try specifying --driver, or see "
        "https://minikube.sigs.k8s.io/docs/start/"
    )  # fmt: skip


def check_provider(driver: str) -> None:
    """validateDriver for the docker driver: the docker CLI must exist and its daemon answer."""
    docker = common.docker_state()
    if driver == "docker":
        if docker == "absent":
            raise fail(
                "PROVIDER_DOCKER_NOT_FOUND",
                65,
                "The 'docker' provider was not found: exec: \"docker\": executable file not found in $PATH",
                style="Shrug",
                advice="Install Docker",
                url="https://minikube.sigs.k8s.io/docs/drivers/docker/",
            )
        if docker == "down":
            raise fail(
                "PROVIDER_DOCKER_NOT_RUNNING",
                63,
                '"docker version --format {{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit '
                "status 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
                "daemon running?",
                style="Fatal",
                advice="Start the Docker service",
                url="https://minikube.sigs.k8s.io/docs/drivers/docker/",
            )


def resources(parsed: Parsed, driver: str) -> tuple[int, int]:
    """validateFlags' disk, CPU and memory checks (MK_USAGE, RSRC_INSUFFICIENT_*), then the values minikube uses."""
    if parsed.has("disk-size"):
        disk = parsed.get("disk-size") or ""
        try:
            disk_mb = size_in_mb(disk)
        except ValueError as error:
            raise fail("MK_USAGE", 14, f"Validation unable to parse disk size {disk}: {error}") from None
        if disk_mb < MIN_DISK_MB:
            raise fail("MK_USAGE", 14, f"Requested disk size {disk_mb} is less than minimum of {MIN_DISK_MB}")
    kic = driver in ("docker", "podman")
    available_cpus = common.host_cpus()
    limit_mb = common.host_memory_mb()
    raw_cpus = parsed.get("cpus")
    if raw_cpus in ("max", "no-limit"):
        cpus = available_cpus
    else:
        try:
            cpus = int(raw_cpus) if raw_cpus is not None else 2
        except ValueError:
            message = f'Unable to parse cpus: strconv.Atoi: parsing "{raw_cpus}": invalid syntax'
            raise fail("MK_USAGE", 14, message) from None
    if parsed.has("cpus") and driver == "none":
        warning("The 'none' driver does not respect the --cpus flag")
    driver_name = {"docker": "Docker", "podman": "Podman"}.get(driver, driver)
    if available_cpus < 2:
        raise fail(
            "RSRC_INSUFFICIENT_CORES",
            29,
            f"{driver_name} has less than 2 CPUs available, but Kubernetes requires at least 2 to be available",
            style="UnmetRequirement",
        )
    if cpus < 2:
        raise fail(
            "RSRC_INSUFFICIENT_CORES",
            29,
            f"Requested cpu count {cpus} is less than the minimum allowed of 2",
            style="UnmetRequirement",
        )
    if cpus > available_cpus:
        raise fail(
            "RSRC_INSUFFICIENT_CORES",
            29,
            f"Requested cpu count {cpus} is greater than the available cpus of {available_cpus}",
            style="UnmetRequirement",
        )
    raw_memory = parsed.get("memory")
    if raw_memory is None:
        suggested = int(limit_mb / 400) * 100
        memory = max(2200, min(suggested, limit_mb - 48 if kic else 6000))
        return cpus, memory
    if raw_memory in ("max", "no-limit"):
        return cpus, limit_mb
    try:
        memory = size_in_mb(raw_memory)
    except ValueError as error:
        raise fail("MK_USAGE", 14, f"Unable to parse memory '{raw_memory}': {error}") from None
    if memory < MIN_USABLE_MEM:
        raise fail(
            "RSRC_INSUFFICIENT_REQ_MEMORY",
            23,
            f"Requested memory allocation {memory}MiB is less than the usable minimum of {MIN_USABLE_MEM}MB",
            style="UnmetRequirement",
        )
    if memory < MIN_RECOMMENDED_MEM:
        ln()
        warning(f"Requested memory allocation ({memory}MB) is less than the recommended minimum "
                f"{MIN_RECOMMENDED_MEM}MB. Deployments may fail.")  # fmt: skip
        ln()
    if kic and memory > limit_mb:
        raise fail("MK_USAGE", 14, f"{driver_name} has only {limit_mb}MB memory but you specified {memory}MB")
    if memory > limit_mb:
        raise fail(
            "RSRC_OVER_ALLOC_MEM",
            1,
            f"Requested memory allocation {memory}MB is more than your system limit {limit_mb}MB.",
            advice=f"Start minikube with less memory allocated: 'minikube start --memory={limit_mb // 4}mb'",
        )
    return cpus, memory


#: cruntime.ValidRuntimes() (pkg/minikube/cruntime/cruntime.go); `crio` is accepted too and `cri-o` saved as it.
VALID_RUNTIMES = ["docker", "cri-o", "containerd"]


def validate_runtime(parsed: Parsed) -> str:
    """validateFlags' `--container-runtime` check (cmd/minikube/cmd/start.go validateRuntime), then
    getContainerRuntime: the flag, else the existing profile's (see `runtime_of`), else docker (defaultRuntime of
    every release so far; v1.38.1 announces containerd from v1.39.0). Returns the flag's value as saved ("" unset)."""
    value = parsed.get("container-runtime") or ""
    if value and value not in [*VALID_RUNTIMES, "crio"]:
        raise fail(
            "MK_USAGE", 14, f"Invalid Container Runtime: {value}. Valid runtimes are: [{' '.join(VALID_RUNTIMES)}]"
        )
    return "crio" if value == "cri-o" else value


def runtime_change_warning(runtime: str, existing: dict[str, Any] | None, parsed: Parsed) -> None:
    """v1.38.1 (cmd/minikube/cmd/start.go provisionWithDriver): a new docker-runtime cluster, or an explicit
    --container-runtime=docker, prints constants.DefaultContainerRuntimeChangeWarning."""
    if at_least("v1.38.1") and runtime == "docker" and (existing is None or parsed.has("container-runtime")):
        warning('Starting v1.39.0, minikube will default to "containerd" container runtime. See #21973 for more info.')


def validate_gpus(parsed: Parsed, driver: str) -> int:
    """validateGPUs (the flag exists from v1.32.0); returns how many NVIDIA GPUs the node will have."""
    value = parsed.get("gpus")
    if not value:
        return 0
    if at_least("v1.37.0"):
        allowed, names = ["nvidia", "nvidia.com", "amd", "all"], '"nvidia", "nvidia.com", "amd" or "all"'
    elif at_least("v1.35.0"):
        allowed, names = ["nvidia", "amd", "all"], '"nvidia", "amd" or "all"'
    else:
        allowed, names = ["nvidia", "all"], '"nvidia" or "all"'
    if value not in allowed:
        raise fail("MK_USAGE", 14, f"The gpus flag must be passed a value of {names}")
    # the flag's value, not the resolved runtime: "" (minikube's default) counts as docker
    runtime = parsed.get("container-runtime") or ""
    if driver != "docker" or runtime not in ("", "docker"):
        raise fail("MK_USAGE", 14, "The gpus flag can only be used with the docker driver and docker container-runtime")
    return 0 if value == "amd" else common.gpu_count()


def extra_options(parsed: Parsed) -> list[dict[str, str]]:
    """--extra-config component.key=value (repeatable); an unknown component is MK_USAGE like the real one."""
    options, invalid = [], []
    for raw in parsed.flags.get("extra-config", []):
        for item in raw.split(","):
            component, dot, rest = item.partition(".")
            key, eq, value = rest.partition("=")
            if not dot or not eq or component not in VALID_EXTRA_CONFIG:
                invalid.append(item)
            else:
                options.append({"Component": component, "Key": key, "Value": value})
    if invalid:
        warning(f"These --extra-config parameters are invalid: [{' '.join(invalid)}]")
        raise fail("MK_USAGE", 14, f"Valid components are: [{' '.join(VALID_EXTRA_CONFIG)}]")
    return options


def cluster_config(profile: str, parsed: Parsed, driver: str, version: str, cpus: int, memory: int) -> dict[str, Any]:
    """The ClusterConfig minikube saves as MINIPATH/profiles/NAME/config.json (and `profile list -o json` prints
    as each profile's Config), every field of v1.37.0's struct in its order: Go's encoding/json writes them all,
    none is tagged omitempty (kubernetes/minikube pkg/minikube/config/types.go `ClusterConfig`,
    `KubernetesConfig`, `Node`; pkg/minikube/config/profile.go `profileFilePath`)."""
    disk = size_in_mb(parsed.get("disk-size") or "20000mb")
    runtime = validate_runtime(parsed) or "docker"
    config: dict[str, Any] = {
        "Name": profile,
        "KeepContext": parsed.true("keep-context"),
        "EmbedCerts": parsed.true("embed-certs"),
        "MinikubeISO": "",
        "KicBaseImage": "gcr.io/k8s-minikube/kicbase:v0.0.48",
        "Memory": memory,
        "CPUs": cpus,
        "DiskSize": disk,
        "Driver": driver,
        "HyperkitVpnKitSock": "",
        "HyperkitVSockPorts": [],
        "DockerEnv": None,
        "ContainerVolumeMounts": None,
        "InsecureRegistry": None,
        "RegistryMirror": [],
        "HostOnlyCIDR": "192.168.59.1/24",
        "HypervVirtualSwitch": "",
        "HypervUseExternalSwitch": False,
        "HypervExternalAdapter": "",
        "KVMNetwork": "default",
        "KVMQemuURI": "qemu:///system",
        "KVMGPU": False,
        "KVMHidden": False,
        "KVMNUMACount": 1,
        "APIServerPort": 8443,
        "DockerOpt": None,
        "DisableDriverMounts": False,
        "NFSShare": [],
        "NFSSharesRoot": "/nfsshares",
        "UUID": "",
        "NoVTXCheck": False,
        "DNSProxy": False,
        "HostDNSResolver": True,
        "HostOnlyNicType": "virtio",
        "NatNicType": "virtio",
        "SSHIPAddress": "",
        "SSHUser": "root",
        "SSHKey": "",
        "SSHPort": 22,
        "KubernetesConfig": {
            "KubernetesVersion": version,
            "ClusterName": profile,
            "Namespace": "default",
            "APIServerHAVIP": "",
            "APIServerName": "minikubeCA",
            "APIServerNames": None,
            "APIServerIPs": None,
            "DNSDomain": "cluster.local",
            "ContainerRuntime": runtime,
            "CRISocket": "",
            "NetworkPlugin": "cni",
            "FeatureGates": parsed.get("feature-gates") or "",
            "ServiceCIDR": "10.96.0.0/12",
            "ImageRepository": parsed.get("image-repository") or "",
            "LoadBalancerStartIP": "",
            "LoadBalancerEndIP": "",
            "CustomIngressCert": "",
            "RegistryAliases": "",
            "ExtraOptions": extra_options(parsed) or None,
            "ShouldLoadCachedImages": True,
            "EnableDefaultCNI": False,
            "CNI": parsed.get("cni") or "",
        },
        "Nodes": [
            {
                "Name": "",
                "IP": "192.168.49.2",
                "Port": 8443,
                "KubernetesVersion": version,
                "ContainerRuntime": runtime,
                "ControlPlane": True,
                "Worker": True,
            }
        ],
        "Addons": {"default-storageclass": True, "storage-provisioner": True},
        "CustomAddonImages": None,
        "CustomAddonRegistries": None,
        "VerifyComponents": {"apiserver": True, "system_pods": True},
        "StartHostTimeout": 360000000000,
        "ScheduledStop": None,
        "ExposedPorts": [],
        "ListenAddress": "",
        "Network": "",
        "Subnet": "",
        "MultiNodeRequested": False,
        "ExtraDisks": 0,
        "CertExpiration": 94608000000000000,
        "MountString": "",
        "Mount9PVersion": "9p2000.L",
        "MountGID": "docker",
        "MountIP": "",
        "MountMSize": 262144,
        "MountOptions": [],
        "MountPort": 0,
        "MountType": "9p",
        "MountUID": "docker",
        "BinaryMirror": "",
        "DisableOptimizations": False,
        "DisableMetrics": False,
        "DisableCoreDNSLog": False,
        "CustomQemuFirmwarePath": "",
        "SocketVMnetClientPath": "",
        "SocketVMnetPath": "",
        "StaticIP": "",
        "SSHAuthSock": "",
        "SSHAgentPID": 0,
        "GPUs": parsed.get("gpus") or "",
        "AutoPauseInterval": 60000000000,
    }
    if config["GPUs"]:
        config["Addons"]["nvidia-device-plugin"] = True
    return config


def starting_line(profile: str) -> str:
    if at_least("v1.33.0"):
        return f'Starting "{profile}" primary control-plane node in "{profile}" cluster'
    return f"Starting control plane node {profile} in cluster {profile}"


def kubectl_skew_warning(version: str) -> None:
    """showKubectlInfo: warn when the kubectl on PATH is more than one minor away from the cluster."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        step("Tip", "kubectl not found. If you need it, try: 'minikube kubectl -- get pods -A'")
        return
    try:
        result = subprocess.run([kubectl, "version", "--client", "--output=json"], capture_output=True, timeout=20)
        client = json.loads(result.stdout)["clientVersion"]["gitVersion"]
        client_v, cluster_v = parse_semver(client), parse_semver(version)
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return
    if client_v[0] != cluster_v[0] or abs(client_v[1] - cluster_v[1]) > 1:
        ln()
        warning(
            f"{kubectl} is version {client.removeprefix('v')}, which may have incompatibilities with "
            f"Kubernetes {version.removeprefix('v')}."
        )
        step("Option", f"Want kubectl {version}? Try 'minikube kubectl -- get pods -A'")


def cmd_start(args: list[str]) -> int:
    value_flags = START_VALUE | ({"gpus"} if at_least("v1.32.0") else set())
    try:
        parsed = parse(args, value_flags, START_BOOL)
    except UnknownFlag as error:
        raise usage_error(str(error), "start") from None
    profile = profile_of(parsed)
    existing = cluster.load_config(profile) if cluster.exists(profile) else None
    shown_profile = "" if profile == DEFAULT_PROFILE else f"[{profile}] "
    step("Happy", f"{shown_profile}minikube {minikube_version()} on {platform()}")
    version = normalize_k8s(parsed.get("kubernetes-version"), existing)
    if existing:
        check_driver_mismatch(parsed, existing, profile)
    validate_k8s(version, existing, profile, parsed.true("force"))
    driver = select_driver(parsed, existing)
    cpus, memory = resources(parsed, driver)  # validateFlags runs for existing profiles too
    asked_runtime = validate_runtime(parsed)
    gpus = validate_gpus(parsed, driver)
    runtime_change_warning(asked_runtime or runtime_of(existing), existing, parsed)
    if existing:
        return restart(profile, parsed, existing, version)
    config = cluster_config(profile, parsed, driver, version, cpus, memory)
    if parsed.true("dry-run"):
        step("DryRun", "dry-run validation complete!")
        return 0
    step("ThumbsUp", starting_line(profile))
    step("Pulling", "Pulling base image v0.0.48 ...")
    step("StartingVM", f"Creating {driver} container (CPUs={cpus}, Memory={memory}MB) ...")
    cluster.save_config(profile, config)
    return boot(profile, parsed, config, gpus)


def runtime_of(existing: dict[str, Any] | None) -> str:
    """getContainerRuntime without the flag: the profile's runtime, else defaultRuntime() (docker)."""
    return ((existing or {}).get("KubernetesConfig") or {}).get("ContainerRuntime") or "docker"


def restart(profile: str, parsed: Parsed, existing: dict[str, Any], version: str) -> int:
    """`minikube start` of an existing profile: keeps its resources (with the real warnings), reboots if needed."""
    if parsed.has("memory"):
        try:
            asked = size_in_mb(parsed.get("memory") or "")
        except ValueError:
            asked = -1
        if asked != existing["Memory"]:
            warning("You cannot change the memory size for an existing minikube cluster. Please first delete the "
                    "cluster.")  # fmt: skip
    if parsed.has("cpus") and parsed.get("cpus") != str(existing["CPUs"]):
        warning("You cannot change the CPUs for an existing minikube cluster. Please first delete the cluster.")
    if parsed.has("disk-size") and size_in_mb(parsed.get("disk-size") or "0") != existing["DiskSize"]:
        warning("You cannot change the disk size for an existing minikube cluster. Please first delete the cluster.")
    old_version = existing["KubernetesConfig"]["KubernetesVersion"]
    step("ThumbsUp", starting_line(profile))
    step("Pulling", "Pulling base image v0.0.48 ...")
    state = cluster.host_state(profile)
    upgrade = version != old_version
    if upgrade:
        existing["KubernetesConfig"]["KubernetesVersion"] = version
        existing["Nodes"][0]["KubernetesVersion"] = version
        cluster.save_config(profile, existing)
    if state == "Running" and cluster.apiserver_running(profile) and not upgrade:
        step("Running", f'Updating the running {existing["Driver"]} "{profile}" container ...')
        return done(profile, existing, reuse=True)
    kept = None
    if state in ("Running", "Paused"):
        # an in-place upgrade keeps the node and its etcd: every object survives (tests/double/persist.py)
        kept = cluster.save_double(profile) if upgrade and state == "Running" else None
        cluster.stop_double(profile)
        step("Running", f'Updating the running {existing["Driver"]} "{profile}" container ...')
    else:
        step("Restarting", f'Restarting existing {existing["Driver"]} container for "{profile}" ...')
    gpus = common.gpu_count() if existing.get("GPUs") in ("all", "nvidia") else 0
    return boot(profile, parsed, existing, gpus, restore=kept)


def wait_for_start_gate(limit: float = 120.0) -> bool:
    """FAKE_MINIKUBE_START_GATE=FILE: a `start` that boots the node waits until FILE exists (a slow start a test
    interrupts or releases); it writes FILE.waiting first, so the test knows it is there. False after `limit`."""
    gate = os.environ.get("FAKE_MINIKUBE_START_GATE")
    if not gate:
        return True
    Path(gate + ".waiting").touch()
    deadline = time.monotonic() + limit
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def boot(profile: str, parsed: Parsed, config: dict[str, Any], gpus: int, restore: Path | None = None) -> int:
    """Start the API server double and write the kubeconfig context, printing what minikube prints meanwhile."""
    version = config["KubernetesConfig"]["KubernetesVersion"]
    runtime = config["KubernetesConfig"]["ContainerRuntime"]
    runtime_shown = {
        "docker": f"Docker {release().docker_in_node}",
        "containerd": "containerd 1.7.24",
        "crio": "CRI-O 1.24.6",
    }  # fmt: skip  (containerd and CRI-O versions: stand-ins)
    step("Docker", f"Preparing Kubernetes {version} on {runtime_shown.get(runtime, runtime)} ...")
    for option in config["KubernetesConfig"]["ExtraOptions"] or []:
        step("Option", f"{option['Component']}.{option['Key']}={option['Value']}")
    if not wait_for_start_gate():
        raise fail("GUEST_START", 80, "failed to start node: the test's start gate never opened")
    try:
        options = config["KubernetesConfig"]["ExtraOptions"] or []
        issuer = next((o["Value"] for o in options if (o["Component"], o["Key"]) == ("apiserver",
                       "service-account-issuer")), None)  # fmt: skip
        info = cluster.start_double(profile, version, config["CPUs"], config["Memory"], gpus, runtime, issuer,
                                    restore)  # fmt: skip
    except cluster.DoubleFailed as error:
        raise fail("GUEST_START", 80, f"failed to start node: {error}") from None
    step("SubStep", "Generating certificates and keys ...")
    step("SubStep", "Booting up control plane ...")
    step("SubStep", "Configuring RBAC rules ...")
    step("CNI", "Configuring bridge CNI (Container Networking Interface) ...")
    cluster.write_context(profile, info["url"], keep_context=bool(config.get("KeepContext")))
    return done(profile, config, reuse=False)


def done(profile: str, config: dict[str, Any], reuse: bool) -> int:
    step("HealthCheck", "Verifying Kubernetes components...")
    step("SubStep", "Using image gcr.io/k8s-minikube/storage-provisioner:v5")
    if config.get("GPUs"):
        step("SubStep", "Using image nvcr.io/nvidia/k8s-device-plugin:v0.17.0")
    addons = ", ".join(name for name in ("nvidia-device-plugin", "storage-provisioner", "default-storageclass")
                       if config["Addons"].get(name))  # fmt: skip
    step("AddonEnable", f"Enabled addons: {addons}")
    if not reuse:
        kubectl_skew_warning(config["KubernetesConfig"]["KubernetesVersion"])
    if config.get("KeepContext"):
        step("Kubectl", f"To connect to this cluster, use:  --context={profile}")
    else:
        step("Ready", f'Done! kubectl is now configured to use "{profile}" cluster and "default" namespace by default')
    return 0


def node_status(profile: str) -> dict[str, Any]:
    """cluster.Status of the profile's only node, as minikube computes it."""
    state = cluster.host_state(profile)
    info = cluster.apiserver_info(profile)
    if state == "Stopped":
        return {"Name": profile, "Host": "Stopped", "Kubelet": "Stopped", "APIServer": "Stopped",
                "Kubeconfig": "Stopped", "Worker": False}  # fmt: skip
    if state == "Paused":
        apiserver, kubelet = "Paused", "Stopped"
    else:
        apiserver = "Running" if cluster.apiserver_running(profile) else "Stopped"
        kubelet = "Running"
    configured = cluster.context_configured(profile, info["url"] if info else None)
    return {"Name": profile, "Host": "Running", "Kubelet": kubelet, "APIServer": apiserver,
            "Kubeconfig": "Configured" if configured else "Misconfigured", "Worker": False}  # fmt: skip


def status_exit_code(status: dict[str, Any]) -> int:
    code = 0
    if status["Host"] != "Running":
        code |= 1
    if status["APIServer"] not in ("Running", "Irrelevant") or status["Kubelet"] != "Running":
        code |= 2
    if status["Kubeconfig"] not in ("Configured", "Irrelevant"):
        code |= 4
    return code


def cmd_status(args: list[str]) -> int:
    try:
        parsed = parse(args, {"output", "format", "layout", "node", "watch"}, set())
    except UnknownFlag as error:
        raise usage_error(str(error), "status") from None
    output = (parsed.get("output") or "text").lower()
    profile = profile_of(parsed)
    if output not in ("text", "json"):
        raise fail("MK_USAGE", 14, f"invalid output format: {output}. Valid values: 'text', 'json'")
    if not cluster.exists(profile):
        raise profile_not_found(profile)
    status = node_status(profile)
    if output == "json":
        print(json.dumps(status, separators=(",", ":")), end="")
    else:
        print(
            f"{status['Name']}\ntype: Control Plane\nhost: {status['Host']}\nkubelet: {status['Kubelet']}\n"
            f"apiserver: {status['APIServer']}\nkubeconfig: {status['Kubeconfig']}\n"
        )
        if status["Kubeconfig"] == "Misconfigured":
            print("\nWARNING: Your kubectl is pointing to stale minikube-vm.\n"
                  "To fix the kubectl context, run `minikube update-context`")  # fmt: skip
    return status_exit_code(status)


def cmd_stop(args: list[str]) -> int:
    parsed = parse(args, {"output", "schedule"}, {"all", "keep-context-active", "cancel-scheduled"})
    profiles = cluster.names() if parsed.true("all") else [profile_of(parsed)]
    for profile in profiles:
        if not cluster.exists(profile):
            raise profile_not_found(profile)
        step("Stopping", f'Stopping node "{profile}"  ...')
        cluster.stop_double(profile)
        if not parsed.true("keep-context-active"):
            cluster.unset_current_context(profile)
    step("Stopped", f"{len(profiles)} node{'s' if len(profiles) != 1 else ''} stopped.")
    return 0


def cmd_delete(args: list[str]) -> int:
    parsed = parse(args, {"output"}, {"all", "purge"})
    if parsed.true("all"):
        for profile in cluster.names():
            delete_profile(profile)
        step("DeletingHost", "Successfully deleted all profiles")
        return 0
    profile = profile_of(parsed)
    if not cluster.exists(profile):
        err("Meh", f'"{profile}" profile does not exist, trying anyways.')
        cluster.remove_context(profile)
        unset_active_profile()
        step("Deleted", f'Removed all traces of the "{profile}" cluster.')
        return 0
    delete_profile(profile)
    return 0


def delete_profile(profile: str) -> None:
    driver = cluster.load_config(profile).get("Driver", "docker")
    step("DeletingHost", f'Deleting "{profile}" in {driver} ...')
    if driver in ("docker", "podman"):
        step("DeletingHost", f'Deleting container "{profile}" ...')
    step("DeletingHost", f"Removing {os.path.expanduser('~')}/.minikube/machines/{profile} ...")
    cluster.delete(profile)
    cluster.remove_context(profile)
    unset_active_profile()
    (common.state_dir() / f"images-{profile}.txt").unlink(missing_ok=True)  # the node's images go with it
    step("Deleted", f'Removed all traces of the "{profile}" cluster.')


def cmd_profile(args: list[str]) -> int:
    # `--light` came with v1.18.0 (cmd/minikube/cmd/config/profile_list.go, commit f457bde0): cobra refuses it before
    parsed = parse(args, {"output"}, {"light"} if at_least("v1.18.0") else set())
    if parsed.positional[:1] != ["list"]:
        if not parsed.positional:
            print(profile_of(parsed))  # ClusterFlagValue(): the active profile
            return 0
        return switch_profile(parsed.positional[0])
    output = (parsed.get("output") or "table").lower()
    valid = []
    for name in cluster.names():
        config = cluster.load_config(name)
        status = node_status(name)
        shown = "Skipped" if parsed.true("light") else ("Running" if status_exit_code(status) == 0 else status["Host"])
        if status["APIServer"] == "Paused":
            shown = "Paused"
        valid.append({"Name": name, "Status": shown, "Config": config, "Active": name == profile_of(parsed),
                      "ActiveKubeContext": cluster.current_context() == name})  # fmt: skip
    if output == "json":
        print(json.dumps({"invalid": [], "valid": valid}, separators=(",", ":")))
        return 0
    if output != "table":
        raise fail("MK_USAGE", 14, f"invalid output format: {output}. Valid values: 'table', 'json'")
    if not valid:
        raise fail("MK_USAGE_NO_PROFILE", 14, "No minikube profile was found. ", advice="You can create one using "
                   "'minikube start'.")  # fmt: skip
    header = ["Profile", "VM Driver", "Runtime", "IP", "Port", "Version", "Status", "Nodes", "Active"]
    rows = [[p["Name"], p["Config"]["Driver"], p["Config"]["KubernetesConfig"]["ContainerRuntime"], "192.168.49.2",
             "8443", p["Config"]["KubernetesConfig"]["KubernetesVersion"], p["Status"], "1",
             "*" if p["ActiveKubeContext"] else ""] for p in valid]  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    print(rule)
    for row in [header, *rows]:
        print("|" + "|".join(f" {c!s:<{w}} " for c, w in zip(row, widths, strict=True)) + "|")
        if row is header:
            print(rule)
    print(rule)
    return 0


def switch_profile(name: str) -> int:
    """`minikube profile NAME` (cmd/minikube/cmd/config/profile.go): `default` means `minikube`; a profile that does
    not exist is refused with a tip and exit 0; else the config's `profile` is set and the kubeconfig's current
    context switched to it (kubeconfig.SetCurrentContext), unless the profile was started with --keep-context."""
    profile = DEFAULT_PROFILE if name == "default" else name
    if profile != DEFAULT_PROFILE and not cluster.exists(profile):
        err("Failure", f'profile "{profile}" not found')  # ValidateProfile's message (cmd/config/util.go)
    if not cluster.exists(profile):
        err("Tip", f"if you want to create a profile you can by this command: minikube start -p {profile}")
        return 0
    write_config({**read_config(), "profile": profile})
    if cluster.load_config(profile).get("KeepContext"):
        step("Success", f"Skipped switching kubectl context for {profile} because --keep-context was set.")
        step("Success", f"To connect to this cluster, use: kubectl --context={profile}")
    else:
        cluster.use_context(profile)
    step("Success", f"minikube profile was successfully set to {profile}")
    return 0


def cmd_pause(args: list[str], pause: bool) -> int:
    parsed = parse(args, {"output", "namespaces"}, {"all-namespaces", "all"})
    profile = profile_of(parsed)
    require_running(profile)
    namespaces = "kube-system, kubernetes-dashboard, storage-gluster, istio-operator"
    if pause:
        step("Pause", f"Pausing node {profile} ... ")
        cluster.signal_double(profile, signal.SIGSTOP)
        cluster.save_machine(profile, {**cluster.load_machine(profile), "state": "Paused"})
        step("Pause", f"Paused 14 containers in: {namespaces}")
    else:
        step("Pause", f"Unpausing node {profile} ... ")
        cluster.signal_double(profile, signal.SIGCONT)
        cluster.save_machine(profile, {**cluster.load_machine(profile), "state": "Running"})
        step("Unpause", f"Unpaused 14 containers in: {namespaces}")
    return 0


def cmd_needs_cluster(command: str, args: list[str]) -> int:
    """image load/pull, ssh, addons, ip, update-context: recorded, answered like the real one on success."""
    parsed = parse(args, {"output", "node", "format", "namespace"}, {"daemon", "remote", "overwrite", "native-ssh",
                                                                     "pull", "all", "refresh"})  # fmt: skip
    profile = profile_of(parsed)
    require_running(profile)
    if command == "image":
        return cmd_image(profile, parsed.positional)
    if command == "ssh":
        return cmd_ssh(profile, parsed.after_dashes or " ".join(parsed.positional).split())
    if command == "ip":
        print("192.168.49.2")
    elif command == "update-context":
        info = cluster.apiserver_info(profile)
        if info:
            cluster.write_context(profile, info["url"], keep_context=False)
        step("Empty", f'"{profile}" context has been updated to point to 192.168.49.2:8443')
    elif command == "addons" and parsed.positional[:1] in (["enable"], ["disable"]) and len(parsed.positional) > 1:
        verb, addon = parsed.positional[0], parsed.positional[1]
        step("AddonEnable", f"The '{addon}' addon is {'enabled' if verb == 'enable' else 'disabled'}")
    return 0


def cmd_image(profile: str, positional: list[str]) -> int:
    """`image pull|load|save|ls`: the node's images are a set kept in the state directory.

    `pull` sleeps FAKE_MINIKUBE_IMAGE_PULL_SECONDS and fails for images matching FAKE_MINIKUBE_IMAGE_PULL_FAIL
    (comma-separated fnmatch patterns), logging start and end times to `image-pulls.jsonl` (for concurrency
    assertions). `save IMAGE FILE` writes a docker-archive-shaped tar (manifest.json with RepoTags); `load FILE`
    reads the RepoTags of such a tar (a missing file fails like the real one).
    """
    import fnmatch
    import tarfile
    import time

    verb, args = (positional[0], positional[1:]) if positional else ("", [])
    images_file = common.state_dir() / f"images-{profile}.txt"
    present = set(images_file.read_text().split()) if images_file.is_file() else set()
    if verb in ("ls", "list", "save"):  # the runtime has what the kubelet pulled and the preload too
        present |= set(double_images(profile))

    def keep(*images: str) -> None:
        """Append (one short write on O_APPEND): concurrent pulls must not lose each other's images."""
        fd = os.open(images_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, "".join(f"{image}\n" for image in images).encode())
        finally:
            os.close(fd)

    if verb == "pull":
        for image in args:
            started = time.time()
            time.sleep(float(os.environ.get("FAKE_MINIKUBE_IMAGE_PULL_SECONDS") or 0))
            patterns = [p for p in os.environ.get("FAKE_MINIKUBE_IMAGE_PULL_FAIL", "").split(",") if p]
            failed = any(fnmatch.fnmatch(image, pattern) for pattern in patterns)
            error = "not found" if failed else double_pull(profile, image)
            with open(common.state_dir() / "image-pulls.jsonl", "a") as log:
                entry = {"image": image, "start": started, "end": time.time(), "ok": error is None}
                log.write(json.dumps(entry) + "\n")
            if error is not None:
                err("Failure", f"Exiting due to GUEST_IMAGE_PULL: Failed to pull image: pull {image}: {error}")
                return 80
            keep(image)
        return 0
    if verb == "save" and args:
        image, target = args[0], (args[1] if len(args) > 1 else "")
        if image not in present and ls_name(image) not in {ls_name(i) for i in present}:
            err("Failure", f"Exiting due to GUEST_IMAGE_SAVE: Failed to save image: {image}: image not known")
            return 80
        if target and target != "-":
            with tarfile.open(target, "w") as archive:
                data = json.dumps([{"Config": "config.json", "RepoTags": [image], "Layers": []}]).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return 0
    if verb == "load":
        loaded = []
        for source in args:
            if not os.path.isfile(source):
                err("Failure", f"Exiting due to GUEST_IMAGE_LOAD: Failed to load image: stat {source}: no such file")
                return 80
            try:
                with tarfile.open(source) as archive:
                    member = archive.extractfile("manifest.json")
                    for entry in json.loads(member.read()) if member else []:
                        loaded.extend(entry.get("RepoTags") or [])
            except (tarfile.TarError, KeyError, ValueError, OSError):
                # `docker load` fails inside the node, yet minikube exits 0 without a word: DoLoadImages logs it
                # and returns nil ("Live pushes are not considered a failure", pkg/minikube/machine/cache_images.go)
                continue
        for image in loaded:
            double_pull(profile, image, load=True)
        keep(*loaded)
        return 0
    if verb in ("ls", "list"):
        # machine.ListImages: each RepoTag as the docker runtime lists it, sorted descending (cache_images.go)
        print("\n".join(sorted({ls_name(image) for image in present}, reverse=True)))
        return 0
    return 0


def ls_name(image: str) -> str:
    """An image as `minikube image ls` prints it with the docker runtime: `REPOSITORY:TAG` of `docker images`
    (a digest-only reference has the tag `<none>`), with docker.io/ and library/ added (pkg/minikube/cruntime/
    docker.go `ListImages`, `AddDockerIO`)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    repo, tag = name.rsplit(":", 1) if ":" in last else (name, "<none>" if digest else "latest")
    first, _, rest = repo.partition("/")
    if not (rest and (any(c in first for c in ".:") or "localhost" in first)):
        repo = f"docker.io/{repo}" if rest else f"docker.io/library/{repo}"
    return f"{repo}:{tag}"


def double_images(profile: str) -> list[str]:
    """The images on the node of the profile's double (`GET /_double/images`: preloaded, pulled, loaded); none
    when it is not running or paused."""
    import urllib.request

    info = cluster.apiserver_info(profile)
    if not info or not info.get("control_url") or cluster.host_state(profile) == "Paused":
        return []
    try:
        with urllib.request.urlopen(info["control_url"] + "/_double/images", timeout=30) as response:
            return list(json.loads(response.read()).get("present") or {})
    except (OSError, ValueError):
        return []


def double_pull(profile: str, image: str, load: bool = False) -> str | None:
    """Put `image` on the profile's node in its double (`POST /_double/pull`, docker pull outside the kubelet's
    queue; `load`: present at once) and wait until it is there. None when done, else the daemon's error. A paused
    double (SIGSTOPped) cannot answer: the image is then only recorded in the images file."""
    import urllib.error
    import urllib.request

    info = cluster.apiserver_info(profile)
    if not info or not info.get("control_url") or cluster.host_state(profile) == "Paused":
        return None
    body = json.dumps({"image": image, "load": load}).encode()
    request = urllib.request.Request(info["control_url"] + "/_double/pull", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=3600):
            return None
    except urllib.error.HTTPError as error:
        return str(json.loads(error.read() or b"{}").get("error") or error)
    except OSError:  # the double is gone (stopped meanwhile): nothing to tell it
        return None


def cmd_ssh(profile: str, command: list[str]) -> int:
    """`minikube ssh -- docker pull IMAGE` (also with sudo): pulls through the double like `image pull`; any other
    command is only recorded."""
    words = command[1:] if command[:1] == ["sudo"] else command
    if words[:2] != ["docker", "pull"]:
        return 0
    images = [w for w in words[2:] if not w.startswith("-")]
    if not images:
        print('"docker pull" requires exactly 1 argument.', file=sys.stderr)
        return 1
    image = images[0]
    error = double_pull(profile, image)
    if error is not None:
        print(error, file=sys.stderr)
        print("ssh: Process exited with status 1", file=sys.stderr)
        return 1
    fd = os.open(common.state_dir() / f"images-{profile}.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{image}\n".encode())
    finally:
        os.close(fd)
    print(f"Status: Downloaded newer image for {image}")
    print(image)
    return 0


def cmd_kubectl(args: list[str]) -> int:
    """`minikube kubectl -- ARGS`: the real kubectl against the profile's context."""
    parsed = parse(args, set(), {"ssh"})
    profile = profile_of(parsed)
    kubectl = common.real_kubectl()
    os.execv(kubectl, [kubectl, "--context", profile, *parsed.positional, *parsed.after_dashes])
    return 0  # pragma: no cover


def main(args: list[str]) -> int:
    if common.absent("minikube"):
        common.exit_as_missing("minikube")
    common.record_call("minikube", args)
    try:
        position = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
        # a global flag with a separate value (`-p NAME start`) comes before the subcommand
        while position is not None and position > 0 and args[position - 1] in ("-p", "--profile"):
            position = next((i for i, a in enumerate(args) if i > position and not a.startswith("-")), None)
        if position is None:
            print("minikube provisions and manages local Kubernetes clusters optimized for development workflows.")
            return 0
        command, rest = args[position], args[:position] + args[position + 1 :]
        handlers = {
            "version": cmd_version,
            "start": cmd_start,
            "status": cmd_status,
            "stop": cmd_stop,
            "delete": cmd_delete,
            "profile": cmd_profile,
            "pause": lambda a: cmd_pause(a, True),
            "unpause": lambda a: cmd_pause(a, False),
            "kubectl": cmd_kubectl,
        }
        if command in handlers:
            return handlers[command](rest)
        if command in ("image", "ssh", "addons", "ip", "update-context", "cache", "logs", "mount"):
            return cmd_needs_cluster(command, rest)
        err("Empty", f'Error: unknown command "{command}" for "minikube"\nRun \'minikube --help\' for usage.')
        return 14
    except UnknownFlag as error:
        return usage_error(str(error), command).code
    except Exit as exit_:
        return exit_.code
