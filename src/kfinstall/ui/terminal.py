"""Output on a terminal or pipe that is not UTF-8: plain ASCII stand-ins instead of a UnicodeEncodeError.

kfinstall's tables and progress lines use a few symbols (✓ ✗ · … ≥ ≤ → ±). Under `PYTHONIOENCODING=ascii`, a
`LANG=C` pipe or a latin-1 console, Python's strict encoder raised on the first of them and `versions`, `check`,
`plan` and `status` died with a traceback. A codec error handler replaces only what the stream cannot encode.
"""

from __future__ import annotations

import codecs
import sys

HANDLER = "kfinstall-ascii"
FALLBACKS = {
    "✓": "+", "✗": "x", "❌": "x", "·": "-", "…": "...", "≥": ">=", "≤": "<=", "→": "->", "–": "-", "—": "--",
    "±": "+-", "×": "x", "•": "*",
}  # fmt: skip
#: One character for one where it can (a table's columns stay aligned); a stream that cannot encode these gets them.
_PROBE = "".join(FALLBACKS)


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(FALLBACKS.get(char, "?") for char in text), error.end


def use_ascii_fallbacks() -> None:
    """Let stdout and stderr fall back to ASCII stand-ins for what their encoding cannot say (UTF-8: no change)."""
    codecs.register_error(HANDLER, _fallback)
    for stream in (sys.stdout, sys.stderr):
        try:
            _PROBE.encode(getattr(stream, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors=HANDLER)
