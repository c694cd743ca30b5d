"""The conventions a user of kind, minikube, gh or uv expects of a CLI, through the real `kfinstall`.

Help without type metavars (`<bool>`, `<str>`, `<list[str]>`), with examples that parse and options in panels;
`-h`; `--version`; shell completion; a `schema_version` in every `--json` document; `--quiet` and `--verbose` on
every command; a log for every command; exit code 3 when nothing is installed (errors.py argues the number).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kfinstall import __version__
from kfinstall.cli import ORDER, app
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

#: Wide enough that Rich folds no help line (an example is then one line of the screen).
WIDE = {**os.environ, "COLUMNS": "200"}
FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
#: The fake `kubectl port-forward` that answers as Kubeflow's gateway (tests/fakes/README.md), for verify and client.
FAKE_PORT_FORWARD = Path(__file__).resolve().parent / "fakes" / "bin" / "kubectl-portforward"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def commands() -> list[str]:
    import typer.main

    return list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def help_of(*args: str) -> str:
    result = kfinstall(*args, "--help", env=WIDE)
    assert result.returncode == 0, result.stderr
    return result.stdout


def examples(text: str) -> list[str]:
    """The lines under `Examples:` at the end of a command's help."""
    block = text.split("Examples:", 1)[1]
    return [line.strip(" │") for line in block.splitlines() if line.strip(" │").startswith("kfinstall ")]


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested


def install(env: dict[str, str], release: LocalRelease, *args: str) -> None:
    result = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", *args,
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr


# help ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, *ORDER])
def test_help_shows_no_type_metavar(command: str | None) -> None:
    if command is not None and command not in commands():
        pytest.skip(f"no `{command}` command in this tree")
    text = help_of(*([command] if command else []))
    assert not re.findall(r"<(?:bool|str|int|float|path|list\[[a-z]+\])>", text), text


@pytest.mark.parametrize("command", ORDER)
def test_every_command_s_help_ends_with_examples_that_parse(command: str) -> None:
    if command not in commands():
        pytest.skip(f"no `{command}` command in this tree")
    lines = examples(help_of(command))
    assert lines, f"`kfinstall {command} --help` has no example"
    root = __import__("typer.main", fromlist=["get_command"]).get_command(app)
    for line in lines:
        argv = shlex.split(line.split("|")[0], comments=True)[1:]
        assert argv[0] == command, line
        sub = root.commands[command]  # type: ignore[attr-defined]
        sub.make_context(command, [a.replace("~", "/tmp") for a in argv[1:]])  # click parses and converts every value


@pytest.mark.parametrize("command", ["versions", "plan", "check"])
def test_the_examples_of_the_commands_that_change_nothing_run(command: str, env: dict[str, str]) -> None:
    """Run for real on the fakes: they print what they promise (check may find the fake machine short: exit 1)."""
    for line in examples(help_of(command)):
        argv = shlex.split(line.split("|")[0], comments=True)[1:]
        if "--images" in argv:
            continue  # asks the registries: the network, which no test reaches
        result = kfinstall(*argv, env=env)
        assert result.returncode in ((0, 1) if command == "check" else (0,)), line + "\n" + result.stderr
        assert result.stdout.strip(), line


def test_the_commands_are_listed_in_the_order_a_user_needs_them() -> None:
    text = help_of()
    listed = re.findall(r"^│ ([a-z][a-z-]+) {2,}", text.split("Commands", 1)[1], flags=re.MULTILINE)
    assert listed == [name for name in ORDER if name in commands()]


def test_up_groups_its_options_in_panels() -> None:
    text = help_of("up")
    panels = re.findall(r"╭─ (\w+) ─", text)
    assert panels == ["Options", "Release", "Components", "Cluster", "Login", "Output", "Advanced"]
    release = text.split("╭─ Release")[1].split("╰")[0]
    assert "--kubeflow-version" in release and "RELEASE" in release


def test_dash_h_is_help(tmp_path: Path) -> None:
    short, long = kfinstall("status", "-h", env=WIDE), kfinstall("status", "--help", env=WIDE)
    assert short.returncode == 0 and short.stdout == long.stdout
    assert "Usage: kfinstall status" in short.stdout


def test_the_top_help_documents_the_exit_codes_and_completion() -> None:
    text = help_of()
    assert re.search(r"^\s*3\s+nothing installed", text, flags=re.MULTILINE), text
    assert re.search(r"^\s*2\s+bad input", text, flags=re.MULTILINE)
    assert "--install-completion" in text and "--show-completion" in text


def test_version_prints_the_version() -> None:
    for flag in ("--version", "-V"):
        result = kfinstall(flag, env=WIDE)
        assert (result.returncode, result.stdout) == (0, f"kfinstall {__version__}\n")


def test_shell_completion_completes_commands_and_options(tmp_path: Path) -> None:
    # Typer guesses the shell from the parent processes (shellingham), which a test's process tree need not show;
    # with its own switch off, --show-completion takes the shell's name instead
    chosen = {**WIDE, "HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = kfinstall("--show-completion", "bash", env=chosen)
    assert script.returncode == 0, script.stderr
    assert "_KFINSTALL_COMPLETE=complete_bash" in script.stdout
    completing = {**WIDE, "_KFINSTALL_COMPLETE": "complete_bash", "COMP_WORDS": "kfinstall sta", "COMP_CWORD": "1"}
    assert kfinstall(env=completing).stdout.split() == ["status"]
    options = {**completing, "COMP_WORDS": "kfinstall status --js", "COMP_CWORD": "2"}
    assert kfinstall(env=options).stdout.split() == ["--json"]


# --json ----------------------------------------------------------------------------------------------------------


def first_json_line(command: list[str], env: dict[str, str]) -> str:
    """The first stdout line of a command that runs until stopped (`port-forward --json`), then SIGTERM it."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        return process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_json_document_starts_with_its_schema_version(
    env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """Every command with `--json`; `gpu-test` on this cluster without GPUs is its failure document (exit 1)."""
    pins = ("--pins", str(synthetic_release.pins))
    install(env, synthetic_release, "--with", "pipelines")  # `client` needs Pipelines
    gateway = {**env, "KFINSTALL_KUBECTL": str(FAKE_PORT_FORWARD), "FAKE_PF_ANSWER": "gateway"}
    secret = tmp_path / "password"
    secret.write_text("correct-horse-battery\n")
    runs = {
        "versions": kfinstall("versions", *pins, "--json", env=env),
        "check": kfinstall("check", *pins, "-k", "v0.1.0", "--json", env=env),
        "plan": kfinstall("plan", *pins, "-k", "v0.1.0", "--json", env=env),
        "images": kfinstall("images", "list", *pins, "-k", "v0.1.0", "--json", env=env),
        "status": kfinstall("status", "--json", env=env),
        "verify": kfinstall("verify", *pins, "--json", env=gateway, stdin=""),
        "client": kfinstall("client", *pins, "--json", env=gateway, stdin=""),
        "gpu-test": kfinstall("gpu-test", "--json", env=env),
        "password": kfinstall("password", "--password-file", str(secret), "--json", env=env),
    }
    forward = [sys.executable, "-m", "kfinstall", "port-forward", "--port", str(free_port()), "--json"]
    documents = {name: result.stdout for name, result in runs.items()}
    documents["port-forward"] = first_json_line(forward, gateway)
    documents["down"] = kfinstall("down", "--keep-cluster", "--yes", "--json", env=env).stdout
    for name, text in documents.items():
        assert text.strip(), f"{name}: {runs[name].stderr if name in runs else 'no line'}"
        document = json.loads(text)
        assert next(iter(document)) == "schema_version" and document["schema_version"] == 1, name
    assert json.loads(documents["verify"])["ok"] is True, runs["verify"].stderr
    assert json.loads(documents["password"])["changed"] is True
    assert json.loads(documents["port-forward"])["phase"] == "forwarding"


def test_up_json_ends_with_an_error_event_when_it_fails(env: dict[str, str], synthetic_release: LocalRelease) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--json",
                       "--cpus", "1024", env=env)  # fmt: skip
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(event["schema_version"] == 1 for event in events)
    assert any(event["phase"] == "failed" and event["message"].startswith("cpus") for event in events), events
    last = events[-1]
    assert last["phase"] == "error" and "prerequisite check failed" in last["message"]
    assert last["exit_code"] == 1 and Path(last["log"]).is_file() and "log:" not in (last["hint"] or "")
    assert "error:" in result.stderr  # the person watching still reads it


def test_a_json_command_that_fails_prints_an_error_document(env: dict[str, str]) -> None:
    result = kfinstall("verify", "--json", env=env)
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["error"]["exit_code"] == result.returncode


# exit codes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("verify",),
        ("client",),
        ("port-forward",),
        ("down", "--yes"),
        ("down", "--keep-cluster", "--yes"),
        ("password", "--password-stdin"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_nothing_installed_exits_3(env: dict[str, str], args: tuple[str, ...]) -> None:
    result = kfinstall(*args, env=env, stdin="a-new-password\n", timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_cluster_without_kubeflow_is_nothing_installed_too(fake_tools: FakeTools, env: dict[str, str]) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    for args in (("status",), ("verify",), ("down", "--keep-cluster", "--yes")):
        result = kfinstall(*args, env=env)
        assert result.returncode == 3, (args, result.stdout + result.stderr)


# --quiet, --verbose, logs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ORDER)
def test_every_command_takes_quiet_and_verbose(command: str) -> None:
    if command not in commands():
        pytest.skip(f"no `{command}` command in this tree")
    text = help_of(command)
    assert re.search(r"--quiet\s+-q", text) and re.search(r"--verbose\s+-v", text), text


def test_verbose_shows_each_external_command(env: dict[str, str], synthetic_release: LocalRelease) -> None:
    result = kfinstall("check", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--verbose", env=env)
    assert re.search(r"^\$ \S*minikube version", result.stderr, flags=re.MULTILINE), result.stderr
    quiet = kfinstall("check", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", env=env)
    assert "$ " not in quiet.stderr


def test_quiet_up_prints_the_result_and_no_progress(env: dict[str, str], synthetic_release: LocalRelease) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       "--quiet", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "is ready" in result.stderr and "Dashboard:" in result.stderr
    assert "✓ prerequisites" not in result.stderr and "ready 1/1" not in result.stderr
    quiet_down = kfinstall("down", "--keep-cluster", "--yes", "-q", env=env)
    assert quiet_down.returncode == 0 and "removing " not in quiet_down.stderr and "removed" in quiet_down.stderr


@pytest.mark.parametrize("command", ["status", "plan", "check", "images"])
def test_every_command_writes_a_log_that_names_its_command_line(
    env: dict[str, str], synthetic_release: LocalRelease, command: str
) -> None:
    args = {"images": ("images", "list")}.get(command, (command,))
    pins = () if command == "status" else ("--pins", str(synthetic_release.pins), "-k", "v0.1.0")
    kfinstall(*args, *pins, env=env)
    latest = Path(env["KFINSTALL_LOG_DIR"]) / "latest.log"
    assert f"-{command}-" in latest.resolve().name
    assert f"kfinstall {__version__}: kfinstall {shlex.join(args)}" in latest.read_text().splitlines()[0]


def test_versions_writes_no_log(env: dict[str, str]) -> None:
    """It runs no program and reads only the pins file: a log would only push the last `up`'s out of latest.log."""
    assert kfinstall("versions", env=env).returncode == 0
    assert not Path(env["KFINSTALL_LOG_DIR"]).exists()


# minikube's active profile, kubectl's context ---------------------------------------------------------------------


def test_up_makes_its_profile_minikube_s_active_one_and_says_so(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # the display folds its lines at the terminal's width
    assert "minikube's active profile is now 'kubeflow' (was 'minikube')" in said
    assert "`minikube profile minikube` switches back" in said
    assert "kubectl's current context is now 'kubeflow'" in said
    status = fake_tools.run("minikube", "status")  # no -p, as a minikube user types it
    assert status.returncode == 0 and status.stdout.startswith("kubeflow\n")
    again = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                      env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "active profile is now" not in again.stderr and "context is now" not in again.stderr
