"""Which git URLs kfinstall clones: https, ssh (also scp-like `git@host:path`), git and file, nothing else.

A pins file or `--manifests-repo` names the repository, and git runs whatever transport the URL asks for: the
`ext::` remote helper runs an arbitrary command, `fd::` reads a file descriptor, `http://` is unauthenticated.
The URL forms are git's (git's Documentation/urls.txt, "GIT URLS": `scheme://`, the scp-like `[user@]host:path`
recognised "only if there are no slashes before the first colon", local paths, and `<transport>::<address>` for
remote helpers). The clone itself runs with GIT_ALLOW_PROTOCOL set to the same list (`GIT_ALLOW_PROTOCOL` in
git's Documentation/git.txt: it overrides any protocol.allow configuration), whatever the user's environment says.
"""

from __future__ import annotations

import re

#: git's protocol names (GIT_ALLOW_PROTOCOL / protocol.<name>.allow) that a clone may use.
ALLOWED_PROTOCOLS = ("https", "ssh", "git", "file")
GIT_ENV = {"GIT_ALLOW_PROTOCOL": ":".join(ALLOWED_PROTOCOLS)}
#: URL schemes and the protocol git files them under (`git+ssh://` and `ssh+git://` are git's old ssh spellings).
_SCHEMES = {"https": "https", "ssh": "ssh", "git+ssh": "ssh", "ssh+git": "ssh", "git": "git", "file": "file"}
_HELPER = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_SCP_LIKE = re.compile(r"(?:[^@/:\s]+@)?([^@/:\s]+):(.+)")
HINT = "use an https://, ssh://, git@host:path, git:// or file:// URL (or a local path)"


def url_problem(url: str) -> str | None:
    """Why git must not be given `url` (None: it may). Pure: nothing is run."""
    if _HELPER.match(url):
        return f"{url!r} uses the {url.split('::')[0]}:: remote helper, which kfinstall does not run"
    if url.startswith("-"):
        return f"{url!r} would be read as an option"
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return f"{url!r} is not a git URL"
    scheme = _SCHEME.fullmatch(url)
    if scheme:
        name = scheme[1].lower()
        if name not in _SCHEMES:
            return f"{url!r} uses the {name} transport; kfinstall clones over {', '.join(ALLOWED_PROTOCOLS)} only"
        if scheme[2].split("/", 1)[0].rpartition("@")[2].startswith("-"):
            return f"{url!r} has a host that would be read as an option"
        return None
    if url.startswith("/"):
        return None  # a local path: git's `file` protocol
    scp = _SCP_LIKE.fullmatch(url)
    if scp and not scp[1].startswith("-"):
        return None  # [user@]host:path, ssh
    return f"{url!r} is not a git URL kfinstall clones"


def check_option(url: str, option: str = "--manifests-repo") -> str:
    """`url` when git may be given it, else the UsageError that names `option`."""
    problem = url_problem(url)
    if problem:
        from kfinstall.errors import UsageError

        raise UsageError(f"{option} {problem}", HINT)
    return url
