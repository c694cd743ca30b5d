"""`pods/NAME/exec`: `kubectl exec` against the double, over WebSocket as kubectl 1.30+ speaks it.

What the real path is, and what the double does at each point (kubernetes/kubernetes at the 1.37 line):

- kubectl (staging/src/k8s.io/kubectl/pkg/cmd/exec/exec.go `Run`) GETs the pod first and refuses a `Succeeded` or
  `Failed` one itself ("cannot exec into a container in a completed pod; current phase is ..."); the double only
  serves that GET. Then it streams through `remotecommand.NewFallbackExecutor`: a WebSocket `GET .../exec` first
  (client-go tools/remotecommand/websocket.go `NewWebSocketExecutor`: only the `v5.channel.k8s.io` subprotocol),
  and only when that upgrade fails (client-go transport/websocket/roundtripper.go: a non-101 answer becomes an
  `UpgradeFailureError`) SPDY/3.1 by `POST` (tools/remotecommand/fallback.go).
- The apiserver (pkg/registry/core/pod/strategy.go `streamLocation`) refuses, before any upgrade, with 400: a
  container name the pod does not have (`container X is not valid for pod P`), several containers and none named
  (`a container name must be specified for pod P, choose one of: [a b]`), a pod not scheduled yet (`pod P does not
  have a host assigned`). Both kubectl attempts get that answer; the SPDY one prints it as
  `Error from server (BadRequest): ...`.
- From 1.30 the apiserver answers the WebSocket upgrade itself and talks SPDY to the kubelet
  (client-go tools/remotecommand/proxy/streamtranslator.go `StreamTranslatorHandler`): what goes wrong there
  arrives on the error channel as an InternalError Status. The kubelet finds only running containers
  (pkg/kubelet/kubelet_pods.go `GetExec` -> `findContainer`: `container not found ("mysql")`), so a container that
  is waiting (ContainerCreating, ImagePullBackOff, CrashLoopBackOff) gives kubectl
  `error: Internal error occurred: unable to upgrade connection: container not found ("mysql")`. A command that
  ends non-zero gives the `NonZeroExitCode` Status with an `ExitCode` cause, and kubectl prints
  `command terminated with exit code N` and exits N (tools/remotecommand/errorstream.go and v4.go `errorDecoderV4`).
  Before 1.30 the upgrade went through to the kubelet's own WebSocket server, which speaks up to
  `v4.channel.k8s.io` only: the v5-only request fails and kubectl falls back to SPDY.
- Frames (RFC 6455; the channel protocol of apimachinery pkg/util/httpstream/wsstream/conn.go): every message is
  binary, its first byte the stream (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; in v5 255 closes a stream).
  The double writes stdout, stderr, then the error channel's Status, then a close frame (1000), answering pings.

- stdin (`kubectl exec -i`, query `stdin=true`): kubectl sends it on channel 0 and, at its end, the v5 close
  signal `[255, 0]` (client-go tools/remotecommand/websocket.go; v5 exists for that signal, KEP-4006). The double
  reads stdin to that end before it runs the program, which gets it whole.

Not simulated, plainly: SPDY/3.1 (the fallback, and so exec on a double below 1.30, is answered with an error that
says so), TTYs, and programs in general. The one program the double runs is a fake `mysqldump`,
in containers whose image is a MySQL image (the repository's last path part is `mysql`); any other command gets the
container runtime's "executable file not found" and exit code 126. The fake serves the databases the scenario's
`mysql_databases` knob gives the volume mounted at `/var/lib/mysql` (keyed `NAMESPACE/CLAIM`, an fnmatch pattern;
no volume: `NAMESPACE/POD`); a volume it does not name holds Kubeflow Pipelines' three databases, empty, as its
servers create them at start (kubeflow/pipelines backend/src/apiserver/client_manager.go `initMysql` and the
cache server's and metadata-grpc's equivalents: `CREATE DATABASE IF NOT EXISTS` of mlpipeline, cachedb, metadb,
the names of pipeline-install-config). The root password is the container's `MYSQL_ROOT_PASSWORD`, else empty
(`MYSQL_ALLOW_EMPTY_PASSWORD`, as Kubeflow's manifests set it), as the mysql image's entrypoint initializes it.
The user and password come from the command line or from an option file named by `--defaults-extra-file`, which
must be the first option (MySQL's "Command-Line Options that Affect Option-File Handling"); the double has no files
but `/dev/stdin`. Its `[client]` and `[mysqldump]` groups are read as mysql/mysql-server mysys/my_default.cc
reads them: `#`/`;` comment lines, a `#` outside quotes ends the line (`remove_end_comment`), matching outer quotes
are stripped and the escapes `\\n \\t \\r \\b \\s \\" \\' \\\\` undone (`search_default_file_with_ext`).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import socket
import struct
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tests.double import errors

if TYPE_CHECKING:
    from tests.double.scenario import Scenario

Obj = dict[str, Any]

#: RFC 6455 section 1.3: the key's SHA-1 with this GUID is the server's proof it read the handshake.
_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
V5 = "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR = 0, 1, 2, 3
#: The v5 protocol's close signal: `[CLOSE, stream]` says the stream ended.
CLOSE = 255
#: Kubeflow Pipelines' databases (pipeline-install-config's pipelineDb, cacheDb, mlmdDb).
KFP_DATABASES = ("mlpipeline", "cachedb", "metadb")
USAGE = (b"Usage: mysqldump [OPTIONS] database [tables]\nOR     mysqldump [OPTIONS] --databases [OPTIONS] DB1 "
         b"[DB2 DB3...]\nOR     mysqldump [OPTIONS] --all-databases [OPTIONS]\n")  # fmt: skip


def serve(handler: Any, pod: Obj, query: str, scenario: Scenario) -> None:
    """Answer one exec request on `handler` (the double's ApiHandler) for `pod`."""
    params = parse_qs(query)
    command = params.get("command") or []
    container = _container(pod, (params.get("container") or [""])[-1])
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")
    upgrade = (handler.headers.get("Upgrade") or "").lower()
    if upgrade != "websocket":
        raise errors.ApiError(
            501,
            "NotImplemented",
            "the double serves exec over WebSocket (v5.channel.k8s.io, Kubernetes 1.30+) only; "
            + ("SPDY/3.1 is not simulated" if upgrade else "Upgrade request required"),
        )
    offered = [p.strip() for p in (handler.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
    if scenario.minor < 30 or V5 not in offered:  # the kubelet's own server: v4 at most (module docstring)
        raise errors.ApiError(
            400, "BadRequest", f"requested protocol(s) are not supported: {offered}; supports up to v4.channel.k8s.io"
        )
    key = handler.headers.get("Sec-WebSocket-Key") or ""
    accept = base64.b64encode(hashlib.sha1((key + _WEBSOCKET_GUID).encode()).digest()).decode()
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.send_header("Sec-WebSocket-Protocol", V5)
    handler.end_headers()
    handler.wfile.flush()
    handler._status = 101
    handler.close_connection = True
    connection: socket.socket = handler.connection
    status: Obj
    if not _running(pod, container):
        status = _internal(f'unable to upgrade connection: container not found ("{container}")')
    else:
        stdin = _read_stdin(handler) if (params.get("stdin") or ["false"])[-1] == "true" else b""
        code, out, err = run(pod, container, command, scenario, stdin)
        for channel, data in ((STDOUT, out), (STDERR, err)):
            for start in range(0, len(data), 32 * 1024):
                _frame(connection, 0x2, bytes([channel]) + data[start : start + 32 * 1024])
        status = _exit_status(code, command)
    _frame(connection, 0x2, bytes([ERROR]) + json.dumps(status).encode())
    _frame(connection, 0x8, struct.pack("!H", 1000))
    _drain(handler)


def _container(pod: Obj, name: str) -> str:
    """The container to run in, refused as streamLocation refuses it."""
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    pod_name = pod["metadata"]["name"]
    if not name:
        if len(names) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(names)}]"
            )
        return names[0]
    if name not in names:
        raise errors.bad_request(f"container {name} is not valid for pod {pod_name}")
    return name


def _running(pod: Obj, container: str) -> bool:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return "running" in (status.get("state") or {})
    return False


def _internal(message: str) -> Obj:
    """apierrors.NewInternalError(err) as the stream translator writes it."""
    return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
            "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}  # fmt: skip


def _exit_status(code: int, command: list[str]) -> Obj:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
            "message": f"command terminated with non-zero exit code: command terminated with exit code {code}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}  # fmt: skip


# ----------------------------------------------------------------------------------------------- WebSocket frames


def _frame(connection: socket.socket, opcode: int, payload: bytes) -> None:
    """One unmasked, final frame (a server's frames are never masked: RFC 6455 section 5.1)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    connection.sendall(head + payload)


def _next_frame(handler: Any) -> tuple[int, bytes] | None:
    """The client's next frame (opcode, unmasked payload), pings answered; None when the connection ended."""
    head = handler.rfile.read(2)
    if len(head) < 2:
        return None
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", handler.rfile.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", handler.rfile.read(8))[0]
    mask = handler.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(handler.rfile.read(size)))
    if opcode == 0x9:
        _frame(handler.connection, 0xA, payload)
    return opcode, payload


def _read_stdin(handler: Any, timeout: float = 30.0) -> bytes:
    """What kubectl sends on stdin, up to its close signal (module docstring)."""
    handler.connection.settimeout(timeout)
    data = bytearray()
    try:
        while (frame := _next_frame(handler)) is not None:
            opcode, payload = frame
            if opcode == 0x8 or payload[:2] == bytes([CLOSE, STDIN]):
                break
            if opcode in (0x1, 0x2) and payload[:1] == bytes([STDIN]):
                data += payload[1:]
    except OSError:
        pass
    return bytes(data)


def _drain(handler: Any, timeout: float = 5.0) -> None:
    """Read the client's frames until its close (pings answered), so that kubectl sees a clean closure."""
    connection: socket.socket = handler.connection
    connection.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            frame = _next_frame(handler)
            if frame is None or frame[0] == 0x8:
                return
    except OSError:
        return


# ----------------------------------------------------------------------------------------------- the programs


def run(pod: Obj, container: str, command: list[str], scenario: Scenario, stdin: bytes = b"",
        ) -> tuple[int, bytes, bytes]:  # fmt: skip
    """Run `command` in `container` of `pod` with `stdin`: (exit code, stdout, stderr)."""
    spec = next(c for c in pod["spec"]["containers"] if c.get("name") == container)
    image = str(spec.get("image", ""))
    repository = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image.split("@")[0]
    if command[:1] == ["mysqldump"] and repository.rsplit("/", 1)[-1] == "mysql":
        return mysqldump(command[1:], spec, _databases(pod, spec, scenario), image, stdin)
    program = command[0] if command else ""
    return 126, b"", (f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{program}": '
                      "executable file not found in $PATH: unknown\n").encode()  # fmt: skip


def _databases(pod: Obj, container: Obj, scenario: Scenario) -> dict[str, dict[str, list[Obj]]]:
    """What the MySQL data directory of this container holds (module docstring)."""
    namespace, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
    mount = next((m for m in container.get("volumeMounts") or [] if m.get("mountPath") == "/var/lib/mysql"), None)
    key = f"{namespace}/{name}"
    if mount is not None:
        volume = next((v for v in pod["spec"].get("volumes") or [] if v.get("name") == mount.get("name")), {})
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            key = f"{namespace}/{claim}"
    for pattern, databases in (scenario.mysql_databases or {}).items():
        if fnmatch.fnmatchcase(key, pattern):
            return databases
    return {database: {} for database in KFP_DATABASES}


def mysqldump(args: list[str], container: Obj, databases: dict[str, dict[str, list[Obj]]], image: str,
              stdin: bytes = b"") -> tuple[int, bytes, bytes]:  # fmt: skip
    """mysqldump's options as kfinstall (and a user) pass them; its output format (client/mysqldump.cc)."""
    user, password, names, whole = "root", None, [], False
    index = 0
    if args[:1] and args[0].startswith("--defaults-extra-file="):
        path = args[0].split("=", 1)[1]
        if path != "/dev/stdin":
            refused = (f"mysqldump: [ERROR] Could not open required defaults file: {path}\n"
                       "mysqldump: [ERROR] Fatal error in defaults handling. Program aborted!\n")  # fmt: skip
            return 1, b"", refused.encode()
        options = _option_file(stdin.decode(errors="replace"), ("client", "mysqldump"))
        if options is None:
            return 1, b"", b"mysqldump: [ERROR] Found option without preceding group in config file /dev/stdin.\n"
        user, password = options.get("user", user), options.get("password", password)
        index = 1
    while index < len(args):
        arg = args[index]
        if arg in ("-u", "--user") and index + 1 < len(args):
            user, index = args[index + 1], index + 1
        elif arg.startswith("--user="):
            user = arg.split("=", 1)[1]
        elif arg.startswith("-u") and len(arg) > 2:
            user = arg[2:]
        elif arg.startswith("--password="):
            password = arg.split("=", 1)[1]
        elif arg.startswith("-p") and len(arg) > 2:
            password = arg[2:]
        elif arg in ("--databases", "-B"):
            whole = True
        elif arg.startswith(("--defaults-extra-file=", "--defaults-file=", "--no-defaults")):
            # only the first argument is an option-file option (mysys/my_default.cc `get_defaults_options`); later,
            # my_getopt finds no such variable and mysqldump exits with it (EXIT_UNKNOWN_VARIABLE, my_getopt.h)
            return 7, b"", f"mysqldump: [ERROR] unknown variable '{arg[2:]}'.\n".encode()
        elif arg.startswith("-"):
            pass  # --single-transaction and the like change nothing the fake holds
        else:
            names.append(arg)
        index += 1
    env = {e.get("name"): e.get("value", "") for e in container.get("env") or []}
    root_password = env.get("MYSQL_ROOT_PASSWORD", "")
    if user != "root" or (password or "") != root_password:
        using = "YES" if password else "NO"
        return 2, b"", f"mysqldump: Got error: 1045: Access denied for user '{user}'@'localhost' (using password: " \
                       f"{using}) when trying to connect\n".encode()  # fmt: skip
    if not names:
        return 1, b"", USAGE
    for database in names if whole else names[:1]:
        if database not in databases:
            return 2, b"", f"mysqldump: Got error: 1049: Unknown database '{database}' when selecting the " \
                           "database\n".encode()  # fmt: skip
    version = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "8.4"
    lines = [f"-- MySQL dump 10.13  Distrib {version}, for Linux (x86_64)", "--", "-- Host: localhost    Database: ",
             "-- ------------------------------------------------------", f"-- Server version\t{version}", "",
             "/*!40101 SET NAMES utf8mb4 */;"]  # fmt: skip
    for database in names if whole else names[:1]:
        if whole:
            create = f"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{database}` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;"
            lines += ["", "--", f"-- Current Database: `{database}`", "--", "", create, "", f"USE `{database}`;"]
        for table, rows in sorted(databases[database].items()):
            columns = list(dict.fromkeys(column for row in rows for column in row))
            lines += ["", "--", f"-- Table structure for table `{table}`", "--", "",
                      f"DROP TABLE IF EXISTS `{table}`;",
                      f"CREATE TABLE `{table}` (" + ", ".join(f"`{c}` longtext" for c in columns) + ");",
                      "", "--", f"-- Dumping data for table `{table}`", "--", "",
                      f"LOCK TABLES `{table}` WRITE;"]  # fmt: skip
            if rows:
                values = ",".join("(" + ",".join(_sql(row.get(c)) for c in columns) + ")" for row in rows)
                lines.append(f"INSERT INTO `{table}` VALUES {values};")
            lines.append("UNLOCK TABLES;")
    lines += ["", f"-- Dump completed on {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}", ""]
    return 0, "\n".join(lines).encode(), b""


#: The escapes an option file's value may hold (mysys/my_default.cc `search_default_file_with_ext`); any other
#: backslash stays as it is.
_OPTION_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}


def _remove_end_comment(line: str) -> str:
    """mysys/my_default.cc `remove_end_comment`: a `#` outside quotes starts a comment; a backslash inside quotes
    protects the next character (an escaped quote does not close them)."""
    quote, escape = "", False
    for index, char in enumerate(line):
        if char in "'\"" and not escape:
            if not quote:
                quote = char
            elif quote == char:
                quote = ""
        if not quote and char == "#":
            return line[:index]
        escape = bool(quote) and char == "\\" and not escape
    return line


def _option_value(value: str) -> str:
    """The outer quotes stripped (when first and last are the same quote), then the escapes undone."""
    if len(value) > 1 and value[0] in "'\"" and value[0] == value[-1]:
        value = value[1:-1]
    out, index = [], 0
    while index < len(value):
        if value[index] == "\\" and index < len(value) - 1:
            index += 1
            out.append(_OPTION_ESCAPES.get(value[index], "\\" + value[index]))
        else:
            out.append(value[index])
        index += 1
    return "".join(out)


def _option_file(text: str, groups: tuple[str, ...]) -> dict[str, str] | None:
    """The options of `groups` in an option file, read as mysys/my_default.cc reads one (module docstring); None
    for an option before any group, which MySQL refuses ("Found option without preceding group")."""
    options: dict[str, str] = {}
    group: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            group = line[1:].split("]", 1)[0].strip()
            continue
        if group is None:
            return None
        name, equals, value = _remove_end_comment(line).partition("=")
        if group in groups and equals:
            options[name.strip().replace("_", "-")] = _option_value(value.strip())
    return options


def _sql(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
