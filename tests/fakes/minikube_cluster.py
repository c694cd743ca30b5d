"""The fake minikube's machines: profile files under FAKE_TOOLS_STATE and the API server double behind each.

A profile is `minikube/profiles/NAME/config.json` (the ClusterConfig `profile list -o json` shows) plus
`machine.json` (Running / Stopped / Paused and the pid of the double's process group). "Running" means a
`python -m tests.double serve` process started detached (its own session, so the fake `minikube start` can exit)
that answers on the URL it wrote to `apiserver/apiserver.json`; under pytest it runs beneath supervise.py, which
stops it if pytest dies. Stopping sends SIGTERM to the process group.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fakes import common


def profiles_dir(state: Path | None = None) -> Path:
    return (state or common.state_dir()) / "minikube" / "profiles"


def profile_dir(name: str, state: Path | None = None) -> Path:
    return profiles_dir(state) / name


def exists(name: str) -> bool:
    return (profile_dir(name) / "config.json").is_file()


def names(state: Path | None = None) -> list[str]:
    root = profiles_dir(state)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "config.json").is_file())


def load_config(name: str) -> dict[str, Any]:
    return json.loads((profile_dir(name) / "config.json").read_text())


def save_config(name: str, config: dict[str, Any]) -> None:
    path = profile_dir(name)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(config, indent=2))


def load_machine(name: str, state: Path | None = None) -> dict[str, Any]:
    path = profile_dir(name, state) / "machine.json"
    return json.loads(path.read_text()) if path.is_file() else {"state": "Stopped"}


def save_machine(name: str, machine: dict[str, Any]) -> None:
    (profile_dir(name) / "machine.json").write_text(json.dumps(machine))


def apiserver_info(name: str, state: Path | None = None) -> dict[str, Any] | None:
    """What the double wrote once listening: {"pid", "url", "port"}; None when it never did."""
    path = profile_dir(name, state) / "apiserver" / "apiserver.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_double(pid: int) -> bool:
    """The pid is alive and is our double (not a recycled pid of some other program)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if b"tests.double" not in cmdline:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Some process of the process group `pgid` still runs (zombies, gone but not yet reaped, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def host_state(name: str) -> str:
    """Running / Paused / Stopped as the machine is now (a crashed double reads as a running host, no API)."""
    return load_machine(name).get("state", "Stopped")


def apiserver_running(name: str) -> bool:
    pid = load_machine(name).get("pid")
    return bool(pid) and is_double(int(pid)) and apiserver_info(name) is not None


class DoubleFailed(Exception):
    """The API server double exited or never reported its address."""


def _gpu_logs(gpus: int) -> list[str]:
    """On a GPU node, CUDA images "print" the host's `nvidia-smi` table (the NVIDIA runtime mounts it in)."""
    if gpus <= 0:
        return []
    from tests.fakes import nvidia_smi

    return ["--set", "pod_logs=" + json.dumps({"*nvidia/cuda:*": nvidia_smi.table(gpus)})]


def start_double(
    name: str, k8s_version: str, cpus: int, memory_mb: int, gpus: int, runtime: str = "docker",
    issuer: str | None = None, restore: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Start the double for profile `name` in the background and wait until it listens; returns apiserver.json.

    The node's container runtime (minikube's `--container-runtime`) decides how the double's kubelet words a
    failed pull (docker's "Error response from daemon" or containerd's "failed to pull and unpack image").
    """
    folder = profile_dir(name)
    double_state = folder / "apiserver"
    double_state.mkdir(parents=True, exist_ok=True)
    (double_state / "apiserver.json").unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "tests.double",
        "serve",
        "--state-dir",
        str(double_state),
        "--k8s-version",
        k8s_version,
        "--cpus",
        str(cpus),
        "--memory",
        str(memory_mb),
        "--gpus",
        str(gpus),
        "--node-name",
        name,
        *_gpu_logs(gpus),
        "--set",
        f"container_runtime={runtime}",
        # --extra-config=apiserver.service-account-issuer=X reaches kube-apiserver through kubeadm's extraArgs
        # (kubernetes/minikube pkg/minikube/bootstrapper/bsutil/kubeadm.go): the issuer of its tokens
        *(("--set", f"service_account_issuer={issuer}") if issuer else ()),
        *shlex.split(os.environ.get("FAKE_MINIKUBE_DOUBLE_ARGS", "")),
        *(("--restore", str(restore)) if restore is not None else ()),
    ]
    owner = os.environ.get("FAKE_TOOLS_OWNER_PID")
    if owner:  # inside pytest: a watchdog stops the double if the test run dies without its teardown
        command = [sys.executable, str(Path(__file__).with_name("supervise.py")), owner, "--", *command]
    with open(folder / "apiserver.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=common.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    save_machine(name, {"state": "Running", "pid": process.pid})
    deadline = time.monotonic() + common.env_int("FAKE_MINIKUBE_START_TIMEOUT", 60)
    while time.monotonic() < deadline:
        info = apiserver_info(name)
        if info is not None:
            return info
        if process.poll() is not None:
            save_machine(name, {"state": "Stopped"})
            raise DoubleFailed(f"the API server double exited with code {process.returncode}: see {log.name}")
        time.sleep(0.02)
    stop_process(process.pid)
    save_machine(name, {"state": "Stopped"})
    raise DoubleFailed(f"the API server double did not report its address in time: see {log.name}")


def stop_process(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the double's process group (SIGCONT first, in case it is paused), SIGKILL if it lingers."""
    if not is_double(pid):
        return
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_double(pid) and not group_alive(pid):  # the watchdog may go first: wait for the double too
            return
        time.sleep(0.02)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def save_double(name: str) -> Path | None:
    """Before an in-place Kubernetes upgrade: the running double writes its objects to a file (what etcd keeps,
    tests/double/persist.py); None when it does not answer (then the upgraded cluster starts empty)."""
    import urllib.request

    info = apiserver_info(name)
    if info is None:
        return None
    path = profile_dir(name) / "etcd.json"
    request = urllib.request.Request(
        info["control_url"] + "/_double/save", data=json.dumps({"path": str(path)}).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60):
            return path
    except OSError:
        return None


def stop_double(name: str) -> None:
    machine = load_machine(name)
    if machine.get("pid"):
        stop_process(int(machine["pid"]))
    save_machine(name, {"state": "Stopped"})


def signal_double(name: str, sig: signal.Signals) -> None:
    """Signal the API server process itself (not its watchdog, which must keep watching while it is paused)."""
    info = apiserver_info(name)
    pid = info["pid"] if info else load_machine(name).get("pid")
    if pid and is_double(int(pid)):
        os.kill(int(pid), sig)


def delete(name: str) -> None:
    if profile_dir(name).is_dir():
        stop_double(name)
        shutil.rmtree(profile_dir(name), ignore_errors=True)


def stop_all(state: Path) -> list[int]:
    """Stop every double started under `state` (the fixture's teardown); returns the pids it stopped."""
    stopped = []
    for name in names(state):
        pid = load_machine(name, state).get("pid")
        if pid and is_double(int(pid)):
            stop_process(int(pid))
            stopped.append(int(pid))
    return stopped


def kubeconfig_path() -> Path:
    """$KUBECONFIG (its first entry) or ~/.kube/config, where minikube writes the profile's context."""
    configured = os.environ.get("KUBECONFIG", "")
    first = next((p for p in configured.split(os.pathsep) if p), "")
    return Path(first) if first else Path.home() / ".kube" / "config"


def _load_kubeconfig() -> dict[str, Any]:
    import yaml

    path = kubeconfig_path()
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def _save_kubeconfig(config: dict[str, Any]) -> None:
    import yaml

    path = kubeconfig_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def current_context() -> str:
    return str(_load_kubeconfig().get("current-context") or "")


def context_configured(name: str, url: str | None) -> bool:
    """The kubeconfig has a context `name` whose cluster points at this API server."""
    config = _load_kubeconfig()
    contexts = {c.get("name"): c.get("context", {}) for c in config.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster", {}) for c in config.get("clusters") or []}
    if name not in contexts:
        return False
    cluster = clusters.get(contexts[name].get("cluster"), {})
    return url is None or cluster.get("server") == url


def write_context(name: str, url: str, keep_context: bool) -> None:
    """Point context/cluster/user `name` at the double (the double's own kubeconfig writer does the entries)."""
    from tests.double.kubeconfig import write_kubeconfig

    previous = _load_kubeconfig().get("current-context")
    write_kubeconfig(kubeconfig_path(), context=name, server_url=url)
    if keep_context:
        config = _load_kubeconfig()
        config["current-context"] = previous or ""
        _save_kubeconfig(config)


def use_context(name: str) -> None:
    """pkg/minikube/kubeconfig SetCurrentContext: the kubeconfig's current-context becomes `name`."""
    config = _load_kubeconfig()
    if config:
        config["current-context"] = name
        _save_kubeconfig(config)


def unset_current_context(name: str) -> None:
    """What `minikube stop` does to the kubeconfig: the entries stay, the current context is cleared."""
    config = _load_kubeconfig()
    if config.get("current-context") == name:
        config["current-context"] = ""
        _save_kubeconfig(config)


def remove_context(name: str) -> None:
    """What `minikube delete` does to the kubeconfig: the profile's cluster, context and user are removed."""
    config = _load_kubeconfig()
    if not config:
        return
    for key in ("clusters", "contexts", "users"):
        config[key] = [entry for entry in config.get(key) or [] if entry.get("name") != name]
    if config.get("current-context") == name:
        config["current-context"] = ""
    _save_kubeconfig(config)
