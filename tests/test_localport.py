"""Local port checks for port-forward: free or not, and who holds it (read from /proc on Linux)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from kfinstall.kube import localport
from kfinstall.kube.portforward import backoff, is_broken, is_error

TCP_TABLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0 100 0 0 10 0
"""


def test_only_listening_sockets_on_the_port_count() -> None:
    assert localport.listening_inodes(8080, TCP_TABLE) == {"4242"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_the_process_listening_on_a_port_is_found() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not localport.is_free("127.0.0.1", port)
        holder = localport.holder(port)
    assert holder is not None and holder.pid == os.getpid()


def test_a_free_port_is_free_and_the_next_free_one_is_after_it() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert localport.is_free("127.0.0.1", port)
    suggestion = localport.next_free("127.0.0.1", port)
    assert suggestion is not None and suggestion > port


def test_loopback_addresses() -> None:
    assert localport.is_loopback("127.0.0.1") and localport.is_loopback("localhost")
    assert not localport.is_loopback("0.0.0.0")


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 10)] == [0.5, 1, 2, 4, 8]


def test_kubectls_broken_forward_lines_are_recognised() -> None:
    assert is_broken("E1129 03:04:05.678901   12345 portforward.go:233] lost connection to pod")
    assert is_broken("E1129 ... an error occurred forwarding 8080 -> 8080: error forwarding port 8080 to pod x")
    assert not is_broken("Handling connection for 8080")


def test_error_lines_are_klog_errors_or_error_prefixed() -> None:
    assert is_error("E1129 03:04:05.678901   12345 portforward.go:233] lost connection to pod")
    assert is_error("error: unable to listen on any of the requested ports: [{8080 80}]")
    assert not is_error("Forwarding from 127.0.0.1:8080 -> 8080")


def test_a_kubectl_whose_parent_is_kfinstall_port_forward_is_that_forward(tmp_path: Path) -> None:
    """/proc as proc(5) lays it out: the listener's stat names its parent, whose cmdline is kfinstall's."""
    inode = "4242"
    (tmp_path / "net").mkdir()
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    row = f"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 {inode}\n"
    (tmp_path / "net" / "tcp").write_text(header + row)
    for pid, parent, comm, argv in (
        (200, 100, "kubectl", ["kubectl", "--context", "kubeflow", "port-forward", "svc/istio-ingressgateway"]),
        (100, 1, "python3", ["/usr/bin/python3", "-m", "kfinstall", "port-forward", "--port", "8080"]),
    ):
        folder = tmp_path / str(pid)
        (folder / "fd").mkdir(parents=True)
        (folder / "comm").write_text(comm + "\n")
        (folder / "cmdline").write_text("\0".join(argv) + "\0")
        (folder / "stat").write_text(f"{pid} ({comm}) S {parent} {pid} {pid} 0 -1\n")
        if comm == "kubectl":
            (folder / "fd" / "3").symlink_to(f"socket:[{inode}]")
    found = localport.kfinstall_forward(8080, tmp_path)
    assert found is not None and found.pid == 100
    assert localport.holder(8080, tmp_path).pid == 200  # type: ignore[union-attr]


def test_a_listener_not_started_by_kfinstall_is_no_kfinstall_forward() -> None:
    assert not localport.is_kfinstall_forward("python3 -m http.server 8080")
    assert not localport.is_kfinstall_forward("kfinstall status")
    assert localport.is_kfinstall_forward("/home/u/.local/bin/kfinstall port-forward --port 8080")
