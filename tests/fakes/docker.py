"""Fake `docker` CLI: `info` and `version` (plain and `--format`), with a daemon that runs or is down.

Modelled on docker CLI 28 (cli/command/system/info.go): when the daemon is down, plain `docker info` prints the
Client section, `ERROR: Cannot connect ...` and exits 1, but `docker info --format ...` prints the error on
stderr, renders the template against empty server info and exits 0 (docker/cli#5900) - a trap worth testing.

Knobs: FAKE_DOCKER=running|down|absent, FAKE_DOCKER_RUNTIMES (comma list, default io.containerd.runc.v2,runc;
add nvidia for the NVIDIA container runtime), FAKE_DOCKER_VERSION (default 28.0.1), FAKE_HOST_CPUS,
FAKE_HOST_MEMORY_MB (what the daemon reports as NCPU/MemTotal).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes import common

CANNOT_CONNECT = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

RUNTIME_PATHS = {"runc": "runc", "io.containerd.runc.v2": "runc", "nvidia": "nvidia-container-runtime"}


def version() -> str:
    return common.env_str("FAKE_DOCKER_VERSION", "28.0.1")


def runtimes() -> dict[str, dict[str, str]]:
    names = [n.strip() for n in common.env_str("FAKE_DOCKER_RUNTIMES", "io.containerd.runc.v2,runc").split(",")]
    return {name: {"path": RUNTIME_PATHS.get(name, name)} for name in sorted(n for n in names if n)}


def server_info() -> dict[str, Any]:
    """The daemon's `Info` (the subset of fields a client could care about, real names and types)."""
    return {
        "ID": "7f3c1c8e-5a0b-4c7e-9d8f-2b1a3c4d5e6f",
        "Containers": 0,
        "ContainersRunning": 0,
        "ContainersPaused": 0,
        "ContainersStopped": 0,
        "Images": 0,
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Using metacopy", "false"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
            "Authorization": None,
            "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "splunk", "syslog"],
        },
        "MemoryLimit": True,
        "SwapLimit": True,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "IPv4Forwarding": True,
        "Debug": False,
        "NFd": 24,
        "OomKillDisable": False,
        "NGoroutines": 41,
        "LoggingDriver": "json-file",
        "CgroupDriver": "systemd",
        "CgroupVersion": "2",
        "KernelVersion": "6.8.0-45-generic",
        "OperatingSystem": "Ubuntu 22.04.4 LTS",
        "OSVersion": "22.04",
        "OSType": "linux",
        "Architecture": "x86_64",
        "IndexServerAddress": "https://index.docker.io/v1/",
        "NCPU": common.host_cpus(),
        "MemTotal": common.host_memory_mb() * 1024 * 1024,
        "DockerRootDir": "/var/lib/docker",
        "Name": "workstation",
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": version(),
        "Runtimes": runtimes(),
        "DefaultRuntime": "runc",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False},
        "LiveRestoreEnabled": False,
        "Isolation": "",
        "InitBinary": "docker-init",
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
        "Warnings": None,
    }


def client_info() -> dict[str, Any]:
    return {
        "Debug": False,
        "Version": version(),
        "GitCommit": "068a01e",
        "GoVersion": "go1.23.6",
        "Os": "linux",
        "Arch": "amd64",
        "BuildTime": "Wed Feb 26 10:40:57 2025",
        "Context": "default",
        "Plugins": [],
        "Warnings": None,
    }


#: Fields of the daemon's Info that are Go maps (nil when empty) rather than structs (zero-valued when empty).
GO_MAPS = {"Runtimes"}


def zeroed(info: dict[str, Any]) -> dict[str, Any]:
    """Go's zero value of `info`: what `docker info --format` renders when the daemon is unreachable."""
    zero: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, bool):
            zero[key] = False
        elif isinstance(value, int):
            zero[key] = 0
        elif isinstance(value, str):
            zero[key] = ""
        elif isinstance(value, dict) and key not in GO_MAPS:
            zero[key] = zeroed(value)
        else:
            zero[key] = None
    return zero


class TemplateError(Exception):
    """A --format template that this small Go-template subset cannot render."""


def lookup(data: Any, path: str) -> Any:
    value = data
    for key in [p for p in path.split(".") if p]:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, dict):
            raise TemplateError(f"can't evaluate field {key} in type {type(value).__name__}")
        else:
            raise TemplateError(f"nil pointer evaluating {key}")
    return value


def go_text(value: Any) -> str:
    """How Go's text/template prints a value with `{{.X}}` (maps and slices the Go way)."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def render(template: str, data: Any) -> str:
    """`{{.A.B}}`, `{{json .A}}`, `{{json .}}` and literal text: what scripts and kfinstall pass to --format."""
    if template == "json":
        template = "{{json .}}"

    def field(match: re.Match[str]) -> str:
        value = lookup(data, match.group(2))
        if match.group(1):
            return json.dumps(value, separators=(",", ":"))
        return go_text(value)

    rendered = re.sub(r"{{\s*(json\s+)?(\.[\w.]*)\s*}}", field, template)
    if "{{" in rendered:
        raise TemplateError(f"unsupported template {template!r}")
    return rendered


def format_option(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg in ("--format", "-f") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--format="):
            return arg.split("=", 1)[1]
    return None


def info(args: list[str]) -> int:
    fmt = format_option(args)
    running = common.docker_state() == "running"
    if fmt is None:
        return pretty_info(running)
    data: dict[str, Any] = {**(server_info() if running else zeroed(server_info())), "ClientInfo": client_info()}
    if not running:
        common.err(CANNOT_CONNECT)
        data["ServerErrors"] = [CANNOT_CONNECT]
    try:
        common.out(render(fmt, data))
    except TemplateError as error:
        # The server part of `docker info` is an embedded *Info that stays empty when the daemon is down.
        common.out()
        common.err(f'template: :1: executing "" at <{fmt.strip("{} ")}>: {error}')
        return 1 if running else 0
    return 0


def pretty_info(running: bool) -> int:
    client = client_info()
    lines = [
        "Client: Docker Engine - Community",
        f" Version:    {client['Version']}",
        " Context:    default",
        " Debug Mode: false",
        "",
        "Server:",
    ]
    if not running:
        common.out("\n".join(lines))
        common.err("ERROR: " + CANNOT_CONNECT)
        common.err("errors pretty printing info")
        return 1
    s = server_info()
    lines += [
        f" Containers: {s['Containers']}",
        f"  Running: {s['ContainersRunning']}",
        f"  Paused: {s['ContainersPaused']}",
        f"  Stopped: {s['ContainersStopped']}",
        f" Images: {s['Images']}",
        f" Server Version: {s['ServerVersion']}",
        f" Storage Driver: {s['Driver']}",
        *(f"  {k}: {v}" for k, v in s["DriverStatus"]),
        f" Logging Driver: {s['LoggingDriver']}",
        f" Cgroup Driver: {s['CgroupDriver']}",
        f" Cgroup Version: {s['CgroupVersion']}",
        " Plugins:",
        "  Volume: " + " ".join(s["Plugins"]["Volume"]),
        "  Network: " + " ".join(s["Plugins"]["Network"]),
        "  Log: " + " ".join(s["Plugins"]["Log"]),
        " Swarm: inactive",
        " Runtimes: " + " ".join(s["Runtimes"]),
        f" Default Runtime: {s['DefaultRuntime']}",
        " Init Binary: docker-init",
        " containerd version: bcc810d6b9066471b0b6fa75f557a15a1cbf31bb",
        " runc version: v1.2.4-0-g6c52b3f",
        " init version: de40ad0",
        " Security Options:",
        "  apparmor",
        "  seccomp",
        "   Profile: builtin",
        "  cgroupns",
        f" Kernel Version: {s['KernelVersion']}",
        f" Operating System: {s['OperatingSystem']}",
        f" OSType: {s['OSType']}",
        f" Architecture: {s['Architecture']}",
        f" CPUs: {s['NCPU']}",
        f" Total Memory: {s['MemTotal'] / 1024**3:.2f}GiB",
        f" Name: {s['Name']}",
        f" ID: {s['ID']}",
        f" Docker Root Dir: {s['DockerRootDir']}",
        " Debug Mode: false",
        " Experimental: false",
        " Insecure Registries:",
        "  ::1/128",
        "  127.0.0.0/8",
        " Live Restore Enabled: false",
        "",
    ]
    common.out("\n".join(lines))
    return 0


def version_command(args: list[str]) -> int:
    fmt = format_option(args)
    running = common.docker_state() == "running"
    client = {**client_info(), "ApiVersion": "1.48", "DefaultAPIVersion": "1.48", "Platform": {"Name": ""}}
    server = {
        "Platform": {"Name": "Docker Engine - Community"},
        "Version": version(),
        "ApiVersion": "1.48",
        "MinAPIVersion": "1.24",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": "6.8.0-45-generic",
    }
    if fmt is not None:
        data = {"Client": client, "Server": server if running else None}
        try:
            common.out(render(fmt, data))
        except TemplateError:
            common.out()
        if not running:
            common.err(CANNOT_CONNECT)
            return 1
        return 0
    common.out(
        "Client: Docker Engine - Community\n"
        f" Version:           {client['Version']}\n"
        " API version:       1.48\n"
        f" Go version:        {client['GoVersion']}\n"
        f" Git commit:        {client['GitCommit']}\n"
        f" Built:             {client['BuildTime']}\n"
        " OS/Arch:           linux/amd64\n"
        " Context:           default"
    )
    if not running:
        common.err(CANNOT_CONNECT)
        return 1
    common.out(
        "\nServer: Docker Engine - Community\n"
        " Engine:\n"
        f"  Version:          {server['Version']}\n"
        "  API version:      1.48 (minimum version 1.24)\n"
        "  Go version:       go1.23.6\n"
        "  Git commit:       bbd0a17\n"
        "  Built:            Wed Feb 26 10:40:57 2025\n"
        "  OS/Arch:          linux/amd64\n"
        "  Experimental:     false"
    )
    return 0


def main(args: list[str]) -> int:
    if common.docker_state() == "absent":
        common.exit_as_missing("docker")
    common.record_call("docker", args)
    if args and args[0] == "info":
        return info(args[1:])
    if args and args[0] == "system" and args[1:2] == ["info"]:
        return info(args[2:])
    if args and args[0] == "version":
        return version_command(args[1:])
    if args in (["--version"], ["-v"]):
        common.out(f"Docker version {version()}, build 068a01e")
        return 0
    if common.docker_state() != "running":
        common.err(CANNOT_CONNECT)
        return 1
    command = args[0] if args else ""
    common.err(f"docker: unknown command: docker {command}\n\nRun 'docker --help' for more information")
    return 1
