"""Discovery documents (legacy and aggregated), /version, and the OpenAPI v3 documents kubectl's validation reads.

kubectl (v1.27+) checks each object's kind in /openapi/v3 for a PATCH operation with a `fieldValidation` query
parameter; when present it leaves validation to the server and sends `fieldValidation=Strict`. The double serves
exactly that (paths and operations, no schemas), which keeps the documents tiny even for huge CRDs.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from tests.double.catalog import ResourceType

SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
    "token": ["create"],
}
#: Subresources whose kind is another API's: (group, version, kind), as real discovery reports them.
SUBRESOURCE_KINDS = {
    "scale": ("autoscaling", "v1", "Scale"),
    "token": ("authentication.k8s.io", "v1", "TokenRequest"),
}

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first; others last alphabetically."""
    m = _VERSION_RE.match(version)
    if not m:
        return (3, 0, 0, version)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor, "")


def group_versions(types: list[ResourceType]) -> dict[str, list[str]]:
    """Group -> served versions, preferred first (built-ins keep catalog order, CRD versions by priority)."""
    out: dict[str, list[str]] = {}
    for rt in types:
        versions = out.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return out


def resource_list(types: list[ResourceType], group: str, version: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rt in types:
        if rt.group != group or rt.version != version:
            continue
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entry["storageVersionHash"] = _hash(rt.group_version + rt.kind)[:12]
        resources.append(entry)
        for sub in rt.subresources:
            resources.append(
                {
                    "name": f"{rt.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": SUBRESOURCE_KINDS[sub][2] if sub in SUBRESOURCE_KINDS else rt.kind,
                    **(
                        {"group": SUBRESOURCE_KINDS[sub][0], "version": SUBRESOURCE_KINDS[sub][1]}
                        if sub in SUBRESOURCE_KINDS
                        else {}
                    ),
                    "verbs": SUBRESOURCE_VERBS[sub],
                }
            )
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "192.168.49.2:8443"}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(types: list[ResourceType]) -> dict[str, Any]:
    groups = [_group(g, vs) for g, vs in group_versions(types).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(types: list[ResourceType], group: str) -> dict[str, Any] | None:
    versions = group_versions(types).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def aggregated(types: list[ResourceType], core: bool) -> dict[str, Any]:
    """apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis."""
    items = []
    for group, versions in group_versions(types).items():
        if bool(group) == core:
            continue
        version_entries = []
        for version in versions:
            resources = []
            for rt in types:
                if rt.group != group or rt.version != version:
                    continue
                res: dict[str, Any] = {
                    "resource": rt.plural,
                    "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    res["shortNames"] = list(rt.short_names)
                if rt.categories:
                    res["categories"] = list(rt.categories)
                if rt.subresources:
                    res["subresources"] = [
                        {
                            "subresource": sub,
                            "responseKind": dict(zip(("group", "version", "kind"), SUBRESOURCE_KINDS[sub], strict=True))
                            if sub in SUBRESOURCE_KINDS
                            else {"group": rt.group, "version": rt.version, "kind": rt.kind},
                            "verbs": SUBRESOURCE_VERBS[sub],
                        }
                        for sub in rt.subresources
                    ]
                resources.append(res)
            version_entries.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": version_entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def version_info(git_version: str) -> dict[str, Any]:
    m = re.match(r"v(\d+)\.(\d+)", git_version)
    major, minor = (m.group(1), m.group(2)) if m else ("1", "0")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": _hash(git_version)[:40],
        "gitTreeState": "clean",
        "buildDate": "2024-01-01T00:00:00Z",
        "goVersion": "go1.22.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _hash(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest().upper()


def openapi_v3_doc(types: list[ResourceType], group: str, version: str, git_version: str) -> dict[str, Any]:
    """The per group-version OpenAPI v3 document: every resource's paths, PATCH accepting fieldValidation."""
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    params = [
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
    ]
    paths: dict[str, Any] = {}
    for rt in types:
        if rt.group != group or rt.version != version:
            continue
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        op = {
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": {"200": {"description": "OK"}},
        }
        paths[f"{base}/{{name}}"] = {
            "get": {
                "x-kubernetes-action": "get",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK"}},
            },
            "patch": op,
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": git_version},
        "paths": paths,
        "components": {"schemas": {}},
    }


def openapi_v3_root(types: list[ResourceType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, versions in group_versions(types).items():
        for version in versions:
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            digest = _hash(
                json.dumps(
                    [(rt.kind, rt.plural, rt.namespaced) for rt in types if rt.group == group and rt.version == version]
                )
            )[:64]
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}
