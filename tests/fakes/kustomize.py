"""Fake `kustomize`: the `version` output of the configured release line, and `build` by the real engine.

`kustomize version` printed four shapes over the years, and kfinstall must read them all (Kubeflow v1.4.0 needs
exactly 3.2.0, later releases 5.x). `build` runs `kubectl kustomize` from the real kubectl (kustomize v5 engine
embedded), so manifests are rendered for real; only the engine's version differs from the one announced.

Knobs: FAKE_KUSTOMIZE_VERSION (e.g. 3.2.0, v4.5.7, 5.4.3; default 5.7.1), FAKE_KUSTOMIZE_VERSION_OUTPUT (print
this text verbatim instead, e.g. a distro build's `{Version:3.8.2 ...}` or `unknown`), FAKE_KUSTOMIZE=absent,
FAKE_KUSTOMIZE_BUILD_GATE=PATTERN=FILE (a build whose path matches the fnmatch PATTERN waits until FILE exists:
a slow build a test releases when it has seen what it wanted; after 120 s it fails).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sys
import time
from pathlib import Path

from tests.fakes import common

#: Real (git commit, build date) of released binaries, as their `kustomize version` printed them.
KNOWN_BUILDS = {
    (3, 2, 0): ("a3103f1e62ddb5b696daa3fd359bb6f2e8333b49", "2019-09-18T16:26:36Z"),
    (3, 2, 1): ("d89b448c745937f0cf1936162f26a5aac688f840", "2019-09-27T00:10:52Z"),
    (3, 2, 3): ("f8412aa3d39f32151525aff97a351288f5a7470b", "2019-10-08T23:30:25Z"),
    (3, 6, 1): ("c97fa946d576eb6ed559f17f2ac43b3b5a8d5dbd", "2020-05-27T20:47:35Z"),
    (4, 5, 7): ("56d82a8378dfc8dc3b3b1085e5a6e67b82966bd7", "2022-08-02T16:35:54Z"),
}


def parse_version(text: str) -> tuple[int, int, int]:
    parts = text.strip().removeprefix("kustomize/").lstrip("v").split(".")
    try:
        major, minor, patch = (int(p) for p in [*parts, "0", "0"][:3])
    except ValueError:
        sys.stderr.write(f"fake kustomize: FAKE_KUSTOMIZE_VERSION={text!r} is not a version like 3.2.0\n")
        raise SystemExit(125) from None
    return major, minor, patch


def build_stamp(version: tuple[int, int, int]) -> tuple[str, str]:
    """The real commit/date for the releases we know; a stable stand-in (same shape) for the others."""
    if version in KNOWN_BUILDS:
        return KNOWN_BUILDS[version]
    return hashlib.sha1(("kustomize {}.{}.{}".format(*version)).encode()).hexdigest(), "2021-01-01T00:00:00Z"


def version_text(version: tuple[int, int, int], goos: str = "linux", goarch: str = "amd64") -> str:
    """`kustomize version` as the release line of `version` prints it (one line, no trailing newline)."""
    major, minor, patch = version
    dotted = f"{major}.{minor}.{patch}"
    if major >= 5:
        return f"v{dotted}"
    commit, date = build_stamp(version)
    tail = f"GitCommit:{commit} BuildDate:{date} GoOs:{goos} GoArch:{goarch}}}"
    if version <= (3, 2, 0):
        return f"Version: {{KustomizeVersion:{dotted} {tail}"
    if version < (3, 4, 0):
        return f"Version: {{Version:kustomize/v{dotted} {tail}"
    return f"{{Version:kustomize/v{dotted} {tail}"


def build_args(args: list[str]) -> list[str]:
    """`kustomize build ARGS` as `kubectl kustomize` arguments (3.x spelled the load restrictor differently)."""
    translated = []
    restrictor = {"none": "LoadRestrictionsNone", "rootOnly": "LoadRestrictionsRootOnly"}
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("--load_restrictor", "--load-restrictor") and i + 1 < len(args):
            translated.append("--load-restrictor=" + restrictor.get(args[i + 1], args[i + 1]))
            skip = True
        elif arg.startswith(("--load_restrictor=", "--load-restrictor=")):
            value = arg.split("=", 1)[1]
            translated.append("--load-restrictor=" + restrictor.get(value, value))
        else:
            translated.append(arg)
    if not any(not a.startswith("-") for a in translated):
        translated.insert(0, ".")
    return translated


def wait_for_gate(path: str, limit: float = 120.0) -> bool:
    """FAKE_KUSTOMIZE_BUILD_GATE: hold a matching build until the gate file exists; False if it never does."""
    pattern, _, gate = os.environ.get("FAKE_KUSTOMIZE_BUILD_GATE", "").partition("=")
    if not gate or not fnmatch.fnmatchcase(path, pattern):
        return True
    deadline = time.monotonic() + limit
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def main(args: list[str]) -> int:
    if common.absent("kustomize"):
        common.exit_as_missing("kustomize")
    common.record_call("kustomize", args)
    if args and args[0] == "version":
        raw = os.environ.get("FAKE_KUSTOMIZE_VERSION_OUTPUT")
        if raw is not None:
            print(raw)
        else:
            print(version_text(parse_version(common.env_str("FAKE_KUSTOMIZE_VERSION", "5.7.1"))))
        return 0
    if args and args[0] == "build":
        if not wait_for_gate(next(a for a in build_args(args[1:]) if not a.startswith("-"))):
            sys.stderr.write("Error: fake kustomize: the build gate was never opened\n")
            return 1
        kubectl = common.real_kubectl()
        sys.stdout.flush()
        os.execv(kubectl, [kubectl, "kustomize", *build_args(args[1:])])
    command = args[0] if args else ""
    sys.stderr.write(f'Error: unknown command "{command}" for "kustomize"\nRun \'kustomize --help\' for usage.\n')
    return 1
