"""What the terminal shows is redacted as the log is (src/kfinstall/ui/messages.py): errors quote kubectl and the
API server verbatim, and those may quote a secret value."""

from __future__ import annotations

import pytest

from kfinstall import redact
from kfinstall.errors import KfError
from kfinstall.ui import messages

HASH = "$2b$12$" + "a" * 53  # the shape of Dex's bcrypt hashes


def test_an_error_quoting_a_bcrypt_hash_and_the_concealed_password_shows_neither(
    capsys: pytest.CaptureFixture[str],
) -> None:
    redact.conceal("hunter2-the-password")
    error = KfError(
        f'cannot update Secret dex-passwords: Invalid value: "{HASH}" for hunter2-the-password',
        "see kubectl's words: hunter2-the-password",
    )
    messages.render_error(error)
    shown = capsys.readouterr().err
    assert "error: cannot update Secret dex-passwords" in shown and "hint: see kubectl's words" in shown
    assert HASH not in shown and "hunter2-the-password" not in shown and shown.count("<redacted") == 3


def test_a_progress_line_quoting_a_bearer_token_shows_the_line_without_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    messages.warn("kubectl said: Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789")
    shown = capsys.readouterr().err
    assert "kubectl said: Authorization: Bearer <redacted" in shown and "abcdefghijklmnop" not in shown
