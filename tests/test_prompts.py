"""The dashboard password prompt: the rule said first, Enter keeps the default only where it is offered, a
mistake asks again (3 tries), and `up` asks only after its checks passed. Through the real CLI on a
pseudo-terminal (python `pty`): getpass turns echo off on it and writes its prompt to stderr."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml

from kfinstall.errors import UsageError
from kfinstall.manifests.login import ask_password
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

SECRET = "correct-horse-battery"
FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
RULE = "The dashboard password: at least 8 characters, at most 72 bytes"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested


class Terminal:
    """`kfinstall ARGS` with a pseudo-terminal as stdin; its stderr read as it comes."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.controller, terminal = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kfinstall", *args], env=env, stdin=terminal, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        os.close(terminal)
        self.seen = ""

    def expect(self, text: str) -> str:
        """Everything printed until `text` (which the process must print before it ends)."""
        while text not in self.seen:
            self._one_more()
        return self.seen

    def type(self, line: str) -> None:
        os.write(self.controller, (line + "\n").encode())

    def answer(self, prompt: str, line: str) -> None:
        """Wait for `prompt` printed after what was seen so far, then type `line`."""
        start = len(self.seen)
        while prompt not in self.seen[start:]:
            self._one_more()
        self.type(line)

    def _one_more(self) -> None:
        assert self.process.stderr is not None
        chunk = os.read(self.process.stderr.fileno(), 1)
        assert chunk, f"ended early:\n{self.seen}"
        self.seen += chunk.decode(errors="replace")

    def finish(self, timeout: float = 240) -> tuple[int, str]:
        try:
            _, rest = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:  # a prompt nobody answers: stop it, and say what it printed
            self.process.terminate()
            _, rest = self.process.communicate()
            raise AssertionError(self.seen + rest.decode(errors="replace")) from None
        os.close(self.controller)
        return self.process.returncode, self.seen + rest.decode(errors="replace")


def said(text: str) -> str:
    return " ".join(text.split())


def test_up_asks_after_the_checks_states_the_rule_first_and_asks_again_after_each_mistake(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    term = Terminal(env, "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal")
    before = term.expect(RULE)
    assert "prerequisites:" in before  # the checks ran and passed first
    assert "Enter keeps the default 12341234" in term.expect("Enter keeps the default 12341234")
    term.answer("Dashboard password: ", "short")  # getpass flushes what is typed before its prompt: wait for it
    term.answer("Dashboard password: ", SECRET)
    term.answer("Again, to confirm: ", "something-else")
    term.answer("Dashboard password: ", SECRET)
    term.answer("Again, to confirm: ", SECRET)
    code, stderr = term.finish()
    assert code == 0, stderr
    assert "the password from the prompt is shorter than 8 characters: try again" in said(stderr)
    assert "the two passwords differ: try again" in said(stderr)
    assert SECRET not in stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_hash(fake_tools).encode())


def dex_hash(fake_tools: FakeTools) -> str:
    result = fake_tools.run("kubectl", "--context", "kubeflow", "get", "configmap", "dex", "-n", "auth", "-o", "json")
    dex = yaml.safe_load(json.loads(result.stdout)["data"]["config.yaml"])  # the synthetic set keeps it inline
    return dex["staticPasswords"][0]["hash"]


def test_up_on_an_install_that_has_the_users_password_asks_for_none(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """The same release again: Dex's config is unchanged and skipped, so a password typed would not be used."""
    secret = tmp_path / "password.txt"
    secret.write_text(SECRET + "\n")
    args = ("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal")
    assert kfinstall(*args, "--yes", "--password-file", str(secret), env=env).returncode == 0
    code, stderr = Terminal(env, *args).finish()
    assert code == 0, stderr
    assert "Dashboard password" not in stderr and RULE not in stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_hash(fake_tools).encode())


def test_up_asks_no_password_when_a_check_fails(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    pins = str(synthetic_release.pins)
    term = Terminal({**env, "FAKE_DOCKER": "down"}, "up", "--pins", pins, "-k", "v0.1.0", "--profile", "minimal")
    code, stderr = term.finish()
    assert code == 1, stderr
    assert re.search(r"\b\d+ prerequisite checks? failed\b", " ".join(stderr.split()))
    assert "Dashboard password" not in stderr and "at least 8 characters" not in stderr


def test_three_mistakes_end_with_the_rule_and_the_other_ways_and_nothing_started(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    term = Terminal(env, "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal",
                    "--skip-checks")  # fmt: skip
    term.answer("Dashboard password: ", "short")
    term.answer("Dashboard password: ", "y" * 73)
    term.answer("Dashboard password: ", "1234567")
    code, stderr = term.finish()
    assert code == 2, stderr
    text = said(stderr)
    assert "error: the password from the prompt is shorter than 8 characters" in text
    assert "the password from the prompt is 73 bytes long: Dex's bcrypt reads at most 72: try again" in text
    assert "hint: choose a longer one; or give it with --password-file FILE or --password-stdin" in text
    assert "Traceback" not in stderr
    assert not any(call[:1] == ["start"] for call in fake_tools.calls("minikube"))


def test_kfinstall_password_offers_no_default_and_asks_again_after_enter(
    fake_tools: FakeTools, env: dict[str, str]
) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    term = Terminal(env, "password")
    assert "Enter keeps" not in term.expect(RULE + ".")
    term.answer("Dashboard password: ", "")
    term.answer("Dashboard password: ", "")
    term.answer("Dashboard password: ", "")
    code, stderr = term.finish()
    assert code == 2, stderr
    assert "the password from the prompt is empty: try again (2 tries left)" in said(stderr)
    assert "use --password-file FILE or --password-stdin, or a terminal" not in stderr  # it is a terminal


def test_kfinstall_password_asks_nothing_for_a_cluster_that_is_not_there(env: dict[str, str]) -> None:
    code, stderr = Terminal(env, "password").finish()
    assert code == 3, stderr  # nothing installed
    assert "there is no minikube profile 'kubeflow'" in stderr
    assert "Dashboard password" not in stderr and RULE not in stderr


# the rules themselves (pure) ------------------------------------------------------------------------------------


def scripted(*answers: str):
    queue, asked = list(answers), []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return queue.pop(0)

    return ask, asked


def test_enter_keeps_the_default_where_it_is_offered() -> None:
    ask, asked = scripted("")
    told: list[str] = []
    assert ask_password(ask, told.append, keep_default=True) is None
    assert asked == ["Dashboard password: "] and told[0].startswith(RULE)


def test_a_good_password_after_two_mistakes_is_taken() -> None:
    ask, _ = scripted("short", SECRET, "typo", SECRET, SECRET)
    told: list[str] = []
    assert ask_password(ask, told.append, keep_default=False) == SECRET
    assert told[1:] == [
        "the password from the prompt is shorter than 8 characters: try again (2 tries left)",
        "the two passwords differ: try again (1 try left)",
    ]


def test_the_third_mistake_is_a_usage_error() -> None:
    ask, _ = scripted("a", "b", "c")
    with pytest.raises(UsageError, match="shorter than 8 characters"):
        ask_password(ask, lambda line: None, keep_default=True)
