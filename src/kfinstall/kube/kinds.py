"""Which `no matches for kind` errors can never heal.

kubectl says `no matches for kind "X" in version "G/V"` both while a CRD of the install is not established yet
(it heals: retry) and when the cluster simply does not serve that API and nothing in the install will ever
add it: a Kubernetes too new for the release (v1.4.0's `apiextensions.k8s.io/v1beta1` CRDs on 1.22+), or a typo.
The second kind must stop the install at once with a clear reason instead of being retried until the timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_NO_MATCH = re.compile(r'no matches for kind "(?P<kind>[^"]+)" in version "(?P<version>[^"]+)"')


def provided_kinds(objects: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs that the CRDs among `objects` will serve once established."""
    provided = set()
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
        versions = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True)]
        if spec.get("version"):  # apiextensions.k8s.io/v1beta1 CRDs may name a single version
            versions.append(spec["version"])
        provided.update((f"{group}/{version}", kind) for version in versions if version)
    return provided


def never_served(errors: Iterable[str], provided: set[tuple[str, str]]) -> list[str]:
    """The `kind (apiVersion)` of each `no matches for kind` error that no CRD of the install provides."""
    missing = []
    for line in errors:
        for match in _NO_MATCH.finditer(line):
            key = (match["version"], match["kind"])
            label = f"{match['kind']} ({match['version']})"
            if key not in provided and label not in missing:
                missing.append(label)
    return missing
