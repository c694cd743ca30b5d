"""What every fake tool shares: where its state lives, how it records its calls, how it reads its knobs.

The fakes run as separate processes (kfinstall starts them through its runner, exactly like the real tools), so
everything they know comes from environment variables and everything they remember lives in files under
FAKE_TOOLS_STATE. Keeping that plumbing here keeps each fake module about the tool it imitates.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

#: The repository root (the fakes start `python -m tests.double` from here).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

#: The file, under the state directory, that holds one JSON line per call of any fake.
CALLS_FILE = "calls.jsonl"


def state_dir() -> Path:
    """FAKE_TOOLS_STATE, or a per-user directory when a fake is run by hand outside pytest."""
    configured = os.environ.get("FAKE_TOOLS_STATE")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"kfinstall-fakes-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_call(tool: str, args: list[str]) -> None:
    """Append this invocation (tool, argv after the program name, cwd) to the calls file.

    One `write` of one short line on an O_APPEND file: concurrent fakes cannot interleave their records.
    """
    line = json.dumps({"tool": tool, "argv": args, "cwd": os.getcwd()}) + "\n"
    fd = os.open(state_dir() / CALLS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_calls(state: Path, tool: str) -> list[list[str]]:
    """The recorded argv lists of `tool`, oldest first (used by the fixture and the tests)."""
    path = state / CALLS_FILE
    if not path.is_file():
        return []
    calls = []
    for line in path.read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            if entry["tool"] == tool:
                calls.append(entry["argv"])
    return calls


def env_int(name: str, default: int) -> int:
    """An integer knob; a malformed value is a loud error in the fake, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.stderr.write(f"fake tool: {name}={raw!r} is not an integer\n")
        raise SystemExit(125) from None


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def absent(tool: str) -> bool:
    """FAKE_<TOOL>=absent: the tool is not installed (the fixture also removes it from PATH)."""
    return os.environ.get("FAKE_" + tool.upper().replace("-", "_"), "").strip().lower() == "absent"


def exit_as_missing(tool: str) -> None:
    """What a shell prints for a command that is not installed; only reached when a fake is run by path."""
    sys.stderr.write(f"sh: 1: {tool}: not found\n")
    raise SystemExit(127)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str = "") -> None:
    sys.stderr.write(text + "\n")


def host_cpus() -> int:
    """CPUs of the simulated host (docker info NCPU, minikube's limit); FAKE_HOST_CPUS, default 8."""
    return env_int("FAKE_HOST_CPUS", 8)


def host_memory_mb() -> int:
    """Memory of the simulated host in MiB (docker info MemTotal, minikube's limit); FAKE_HOST_MEMORY_MB."""
    return env_int("FAKE_HOST_MEMORY_MB", 32000)


def gpu_count() -> int:
    """NVIDIA GPUs of the simulated host (nvidia-smi, minikube --gpus); FAKE_NVIDIA_GPUS, default 0."""
    return env_int("FAKE_NVIDIA_GPUS", 0)


def docker_state() -> str:
    """FAKE_DOCKER: running (default), down (daemon not reachable) or absent (not installed)."""
    value = env_str("FAKE_DOCKER", "running").lower()
    if value not in ("running", "down", "absent"):
        sys.stderr.write(f"fake tool: FAKE_DOCKER={value!r} must be running, down or absent\n")
        raise SystemExit(125)
    return value


def real_kubectl() -> str:
    """The real kubectl: KFINSTALL_KUBECTL, else the one beside the Python running this fake (the test venv)."""
    override = os.environ.get("KFINSTALL_KUBECTL")
    if override and os.path.isfile(override):
        return override
    return str(Path(sys.executable).parent / "kubectl")
