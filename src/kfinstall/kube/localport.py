"""Is a local TCP port free, and if not, which process holds it? (for `kfinstall port-forward`)

kubectl's own answer to a busy port is `unable to listen on any of the requested ports`, which does not say
who holds it. On Linux the owner can be found without extra tools: /proc/net/tcp{,6} maps the listening port to
a socket inode, and /proc/PID/fd links name the process that has that inode open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

_LISTEN = "0A"


def in_range(port: int) -> bool:
    return 1 <= port <= 65535


def is_loopback(address: str) -> bool:
    return address in ("localhost", "::1") or address.startswith("127.")


ADDRESS_HINT = (
    "use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's IP addresses "
    "(`ip -brief address`)"
)


def address_problem(address: str) -> str | None:
    """Why kubectl could not listen on `address` (None: it can), found before anything starts.

    `kubectl port-forward --address` "Only accepts IP addresses or localhost as a value" (its own --help,
    kubernetes/kubectl pkg/cmd/portforward/portforward.go); kfinstall takes one of them, and it must be an
    address of this machine: binding a probe socket to port 0 says so without sending anything.
    """
    if address == "localhost":
        return None
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"--address {address!r} is not an IP address or localhost (kubectl port-forward takes only those)"
    with socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                return f"--address {address} is not an address of this machine"
            return f"cannot listen on --address {address}: {error.strerror}"
    return None


def check_address(address: str) -> str:
    """`address` when kubectl can listen on it, else a UsageError (before anything starts: no log either)."""
    problem = address_problem(address)
    if problem:
        from kfinstall.errors import UsageError

        raise UsageError(problem, ADDRESS_HINT)
    return address


def is_free(address: str, port: int) -> bool:
    """Can kubectl listen on address:port? (SO_REUSEADDR like Go's listener: a TIME_WAIT leftover is no obstacle)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def next_free(address: str, port: int, tries: int = 50) -> int | None:
    """The first free port after `port`, for the hint."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if is_free(address, candidate):
            return candidate
    return None


def listening_inodes(port: int, table: str) -> set[str]:
    """Socket inodes listening on `port` in the text of /proc/net/tcp or /proc/net/tcp6 (pure)."""
    inodes = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == _LISTEN:
            inodes.add(fields[9])
    return inodes


@dataclass(frozen=True)
class Holder:
    pid: int
    name: str
    command: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}: {self.command})" if self.command else f"{self.name} (pid {self.pid})"


def holder(port: int, proc: Path = Path("/proc")) -> Holder | None:
    """The process listening on `port`, when /proc lets us see it (Linux, and a process of ours or root)."""
    inodes: set[str] = set()
    for table in ("net/tcp", "net/tcp6"):
        with contextlib.suppress(OSError):
            inodes |= listening_inodes(port, (proc / table).read_text())
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or another user's process
            continue
        if {_readlink(fd) for fd in fds} & wanted:
            return Holder(int(entry.name), _read(entry / "comm"), _read(entry / "cmdline").replace("\0", " ").strip())
    return None


def parent_pid(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The parent of `pid`: the 4th field of /proc/PID/stat, after the `(comm)` that may hold spaces (proc(5))."""
    text = _read(proc / str(pid) / "stat")
    try:
        return int(text.rsplit(")", 1)[1].split()[1])
    except (IndexError, ValueError):
        return None


def is_kfinstall_forward(command: str) -> bool:
    """Whether a command line is `kfinstall port-forward` (the console script or `python -m kfinstall`)."""
    words = command.split()
    named = any(Path(word).name == "kfinstall" for word in words) or "kfinstall" in words  # `-m kfinstall`
    return named and "port-forward" in words


def kfinstall_forward(port: int, proc: Path = Path("/proc")) -> Holder | None:
    """The `kfinstall port-forward` that holds `port`: the listener is its `kubectl port-forward` (which it
    restarts when it drops, so killing that kubectl frees nothing), and kfinstall is the kubectl's parent."""
    listener = holder(port, proc)
    if listener is None:
        return None
    if is_kfinstall_forward(listener.command):
        return listener
    parent = parent_pid(listener.pid, proc)
    if parent is None or parent <= 1:
        return None
    command = _read(proc / str(parent) / "cmdline").replace("\0", " ").strip()
    if not is_kfinstall_forward(command):
        return None
    return Holder(parent, _read(proc / str(parent) / "comm"), command)


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed meanwhile (e.g. the descriptor that listed the directory)
        return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""
