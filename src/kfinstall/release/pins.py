"""The pinned Kubeflow releases: a typed schema over `manifests_pins.yaml`, and its loader.

Everything kfinstall knows about a release (where its manifests live, which commit, which kustomize and
Kubernetes it needs, the components and their order) comes from this one file, so supporting a fork or a new
release is a data change (`--pins FILE`), not a code change. The schema rejects a malformed file up front with
the file, the release and the field in the message: a typo found at load time costs a second, one found half-way
through an install costs a broken cluster.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Annotated, Any, Literal

from packaging.version import Version as PackagingVersion
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kfinstall.errors import UsageError
from kfinstall.release.version import Version

PROFILES: tuple[str, ...] = ("minimal", "standard", "full")
Profile = Literal["minimal", "standard", "full"]

PINS_FILENAME = "manifests_pins.yaml"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_ID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
#: Release tags: `v1.4.0` … `v1.11.0` (semantic, with an optional pre-release), then from 26.03 on calendar
#: versions `YY.MM` and `YY.MM.P` without a `v` (kubeflow/community-distribution tags 26.03; 26.03.1 had
#: release candidates).
_SEMVER_TAG = re.compile(r"v\d+\.\d+\.\d+(-[\w.]+)?")
_CALENDAR_TAG = re.compile(r"\d{2}\.(0[1-9]|1[0-2])(\.\d+)?(-[\w.]+)?")


def _version_text(value: Any) -> str:
    """Normalise to `vX.Y[.Z]` (YAML may give 1.21 as a float)."""
    return str(Version.parse(str(value)))


VersionText = Annotated[str, Field(description="a version such as v1.19.3 or v1.21")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VersionRange(_Model):
    """Inclusive range; either end may be open. An upper bound written as `v1.21` admits every v1.21.x."""

    min: VersionText | None = None
    max: VersionText | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return None if value is None else _version_text(value)

    @model_validator(mode="after")
    def _ordered(self) -> VersionRange:
        if self.min and self.max and Version.parse(self.min).minor_key > Version.parse(self.max).minor_key:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def contains(self, version: str | Version) -> bool:
        found = version if isinstance(version, Version) else Version.parse(version)
        if self.min is not None and found < Version.parse(self.min):
            return False
        if self.max is not None:
            upper = Version.parse(self.max)
            if upper.patch is None:
                return found.minor_key <= upper.minor_key
            return found <= upper
        return True

    def __str__(self) -> str:
        if self.min and self.max:
            return f"{self.min} – {self.max}"
        if self.min:
            return f"≥ {self.min}"
        if self.max:
            return f"≤ {self.max}"
        return "any"


class KubernetesPin(VersionRange):
    """The Kubernetes versions a release supports, and the one kfinstall starts by default."""

    default: VersionText
    note: str | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _full_default(cls, value: Any) -> str:
        version = Version.parse(str(value))
        if version.patch is None:
            raise ValueError(f"default must be a full version that minikube can start (e.g. v1.19.3), not {value}")
        return str(version)

    @model_validator(mode="after")
    def _default_in_range(self) -> KubernetesPin:
        if not self.contains(self.default):
            raise ValueError(f"default {self.default} is outside the supported range {VersionRange.__str__(self)}")
        return self


class KustomizeDefect(_Model):
    """Kustomize versions that build one component of the release wrong: which, what breaks, the source of the
    fact, and how kfinstall repairs the built objects (None: it does not, so `check` fails on those versions)."""

    min: str
    #: The first version known to build it right again; None: no fixed kustomize release is known.
    below: str | None = None
    component: str
    breaks: str
    source: str
    repaired: str | None = None

    @field_validator("min", "below", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return None if value is None else str(Version.parse(str(value))).lstrip("v")

    def affects(self, version: str | Version) -> bool:
        found = version if isinstance(version, Version) else Version.parse(version)
        return found >= Version.parse(self.min) and (self.below is None or found < Version.parse(self.below))

    def __str__(self) -> str:
        return f"{self.min} – {self.below} (excl.)" if self.below else f"≥ {self.min}"


class KustomizeRequirement(_Model):
    """Exactly one of `exact` (v1.4.0 wants 3.2.0 and nothing else) or `min` (later releases: that or newer), and
    the known `defects` of versions that satisfy it."""

    exact: str | None = None
    min: str | None = None
    note: str | None = None
    defects: list[KustomizeDefect] = Field(default_factory=list)

    @field_validator("exact", "min", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return None if value is None else str(Version.parse(str(value))).lstrip("v")

    @model_validator(mode="after")
    def _one(self) -> KustomizeRequirement:
        if (self.exact is None) == (self.min is None):
            raise ValueError("give exactly one of exact or min")
        return self

    @property
    def version(self) -> str:
        return self.exact or self.min or ""

    def satisfied_by(self, version: str | Version) -> bool:
        found = version if isinstance(version, Version) else Version.parse(version)
        if self.exact is not None:
            return found == Version.parse(self.exact)
        return found >= Version.parse(self.min or "0.0.0")

    def __str__(self) -> str:
        return f"= {self.exact}" if self.exact else f"≥ {self.min}"


class Resources(_Model):
    """What minikube should get for one profile. `source` says where the numbers come from (README or estimate)."""

    cpus: int = Field(ge=2)
    memory_mb: int = Field(ge=1800)
    disk_size: str | None = None
    source: str


class Wait(_Model):
    """A README `kubectl wait` line as data. In the file, a wait may be just the verbatim line; it is parsed."""

    namespace: str
    what: Literal["pods", "endpoints"]
    selector: str | None = None  # None: --all
    condition: str  # the --for value, e.g. condition=Ready or jsonpath={...}=Pod
    timeout_seconds: int = Field(gt=0)
    readme: str

    @model_validator(mode="before")
    @classmethod
    def _from_line(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_wait(data)
        return data

    @property
    def all(self) -> bool:
        return self.selector is None


def parse_wait(line: str) -> dict[str, Any]:
    """The fields of a verbatim `kubectl wait ...` line (both `--timeout=180s` and `--timeout 300s` forms)."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise ValueError(f"cannot parse wait line {line!r}: {error}") from None
    if words[:2] != ["kubectl", "wait"]:
        raise ValueError(f"a wait must be a `kubectl wait` line, got {line!r}")
    fields: dict[str, Any] = {"readme": line, "selector": None}
    select_all = False
    rest = words[2:]
    index = 0
    while index < len(rest):
        word = rest[index]
        name, has_value, value = word.partition("=")
        if name in ("--for", "--timeout", "-n", "--namespace", "-l", "--selector") and not has_value:
            index += 1
            value = rest[index] if index < len(rest) else ""
        if name == "--for":
            fields["condition"] = value
        elif name == "--timeout":
            fields["timeout_seconds"] = _seconds(value)
        elif name in ("-n", "--namespace"):
            fields["namespace"] = value
        elif name in ("-l", "--selector"):
            fields["selector"] = value
        elif word == "--all":
            select_all = True
        elif word in ("pod", "pods", "po"):
            fields["what"] = "pods"
        elif word in ("endpoints", "ep"):
            fields["what"] = "endpoints"
        else:
            raise ValueError(f"unexpected word {word!r} in wait line {line!r}")
        index += 1
    if select_all == (fields["selector"] is not None):
        raise ValueError(f"a wait needs exactly one of --all or -l: {line!r}")
    return fields


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)(s|m)?", text)
    if not match:
        raise ValueError(f"timeout {text!r} is not like 180s or 5m")
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


#: minikube's container runtimes (kubernetes/minikube pkg/minikube/cruntime/cruntime.go ValidRuntimes).
ContainerRuntime = Literal["docker", "containerd", "cri-o"]


class RuntimeNeed(_Model):
    """The container runtime a component's own paths (its default variant) need, and where that fact comes from.

    minikube picks the runtime when it creates a cluster (docker up to v1.38; v1.38.1 announces containerd as the
    default from v1.39.0), so kfinstall asks for it whenever the plan needs one.
    """

    runtime: ContainerRuntime
    source: str = Field(min_length=1)


class RuntimeDependency(_Model):
    """Workloads of a component whose process exits while another workload of the same component (`needs`, by
    name) is not serving yet, with the source that says so.

    The kubelet restarts such a container with CrashLoopBackOff (10 s doubling to 5 min), so it can sit out minutes
    after what it needs became ready; `up` deletes its pod the moment `needs` is ready, and the new pod starts
    without back-off (install/restarts.py).
    """

    workloads: list[str] = Field(min_length=1)
    needs: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Database(_Model):
    """A MySQL database a component keeps its users' data in (Pipelines: runs, experiments, pipelines, the cache,
    ML Metadata), which an upgrade dumps before anything changes (install/upgrade_steps.py `DumpDatabase`): where
    its server runs and how a client logs in, as the release's manifests set them, with their source."""

    namespace: str = Field(min_length=1)
    #: The Deployment of the server, its pods' label selector and the container that has `mysqldump`.
    deployment: str = Field(min_length=1)
    selector: str = Field(min_length=1)
    container: str = Field(min_length=1)
    #: The databases to dump (the component's config names them).
    databases: list[str] = Field(min_length=1)
    #: The Secret whose `username` and `password` keys the component's servers log in with.
    secret: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Component(_Model):
    """One README install section: its kustomize paths (applied in order), where it runs, what it needs."""

    id: str
    name: str
    paths: list[str] = Field(min_length=1)
    namespaces: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    profiles: set[Profile]
    alternatives: dict[str, list[str]] = Field(default_factory=dict)
    waits: list[Wait] = Field(default_factory=list)
    #: Paths (of `paths` or an alternative) whose build fetches remote bases: they fail without the network.
    needs_network: list[str] = Field(default_factory=list)
    #: The runtime its own paths need (an alternative, e.g. the pns executor, is the way out on another runtime).
    container_runtime: RuntimeNeed | None = None
    #: Its workloads that crash-loop until another of its workloads is ready (restarted by `up` once it is).
    runtime_needs: list[RuntimeDependency] = Field(default_factory=list)
    #: Of `depends_on`: those it is applied after as soon as they are served (their CRDs established, their
    #: admission webhooks' Services with ready endpoints) instead of ready; what the component needs of them at
    #: apply time is exactly that, and its pods' runtime needs on them are met later (or restarted, restarts.py).
    after_served: list[str] = Field(default_factory=list)
    #: The MySQL database of its users' data (in every variant), dumped before an upgrade; None: it keeps none.
    database: Database | None = None
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} is not a lowercase id like cert-manager")
        return value

    @field_validator("paths", "needs_network")
    @classmethod
    def _clean_paths(cls, paths: list[str]) -> list[str]:
        return [_clean_path(p) for p in paths]

    @field_validator("alternatives")
    @classmethod
    def _clean_alternatives(cls, alternatives: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, paths in alternatives.items():
            if name == "default":
                raise ValueError("'default' names the component's own paths; pick another variant name")
            if not paths:
                raise ValueError(f"alternative {name!r} has no paths")
        return {name: [_clean_path(p) for p in paths] for name, paths in alternatives.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Component:
        if self.id in self.depends_on:
            raise ValueError(f"{self.id} depends on itself")
        if stray_served := [d for d in self.after_served if d not in self.depends_on]:
            raise ValueError(f"after_served names what it does not depend on: {', '.join(stray_served)}")
        known = set(self.paths).union(*self.alternatives.values()) if self.alternatives else set(self.paths)
        stray = [p for p in self.needs_network if p not in known]
        if stray:
            raise ValueError(f"needs_network names paths the component does not have: {', '.join(stray)}")
        if "full" not in self.profiles:
            raise ValueError("every component is in the full profile")
        if "minimal" in self.profiles and "standard" not in self.profiles:
            raise ValueError("a minimal component is also in the standard profile")
        return self

    def variant_paths(self, variant: str | None = None) -> list[str]:
        """The paths of `variant` (None or "default": the component's own)."""
        if variant in (None, "default"):
            return list(self.paths)
        if variant not in self.alternatives:
            raise UsageError(
                f"{self.id} has no variant {variant!r}", f"valid variants: {', '.join(['default', *self.alternatives])}"
            )
        return list(self.alternatives[variant])


def _clean_path(path: str) -> str:
    cleaned = path.strip().rstrip("/")
    if not cleaned or cleaned.startswith("/") or ".." in cleaned.split("/"):
        raise ValueError(f"{path!r} must be a relative path inside the manifests repository")
    return cleaned


_REFERENCE = re.compile(r"^[a-z0-9][\w.\-/:@]*$")


class ImageSubstitution(_Model):
    """An image a registry no longer serves, and what upstream points to instead: applied to every built pod spec.

    `image` is an exact reference, or `REPOSITORY:*` for every tag of a repository; `replacement` is an exact
    reference, or (for a pattern) `REPOSITORY:*`, which keeps the tag. `components` are the components whose builds
    run the image (so `plan` can show it without building); `source` names the issue/PR that says so.
    """

    image: str
    replacement: str
    components: list[str] = Field(min_length=1)
    source: str = Field(min_length=1)
    reason: str = Field(min_length=1)

    @field_validator("image", "replacement")
    @classmethod
    def _reference(cls, value: str) -> str:
        name = value[:-2] if value.endswith(":*") else value
        if not _REFERENCE.match(name) or "*" in name or name.endswith((":", "/", "@")):
            raise ValueError(f"{value!r} is not an image reference (or REPOSITORY:* for every tag)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ImageSubstitution:
        if self.replacement.endswith(":*") and not self.image.endswith(":*"):
            raise ValueError(f"replacement {self.replacement} keeps the tag: the image must be REPOSITORY:* too")
        if self.replacement == self.image:
            raise ValueError(f"{self.image} is replaced by itself")
        return self

    def apply(self, image: str) -> str | None:
        """The replacement of `image`, or None when this substitution does not concern it."""
        if not self.image.endswith(":*"):
            return self.replacement if image == self.image else None
        repository, _, tag = image.rpartition(":")
        if repository != self.image[:-2] or not tag or "/" in tag or "@" in image:
            return None
        return f"{self.replacement[:-2]}:{tag}" if self.replacement.endswith(":*") else self.replacement


class ImageAtRisk(_Model):
    """Images a registry is reported to be deleting, with no replacement established: `plan` warns about them."""

    image: str = Field(min_length=1)  # an fnmatch pattern over image references
    components: list[str] = Field(min_length=1)
    source: str = Field(min_length=1)
    note: str = Field(min_length=1)


class Gateway(_Model):
    """How a user reaches Kubeflow through its gateway, for `kfinstall verify`: who answers an unauthenticated
    request (`oauth2-proxy`: its 403 sign-in page; `authservice`: arrikto's oidc-authservice, a 302 to Dex), the
    session cookie that proves a login, and the version of the Pipelines API whose healthz answers."""

    auth: Literal["oauth2-proxy", "authservice"]
    session_cookie: str = Field(min_length=1)
    kfp_api: Literal["v1beta1", "v2beta1"]
    source: str = Field(min_length=1)


class UpgradeObject(_Model):
    """One object upstream's upgrade notes name: deleted by exact identity (`--ignore-not-found`) before the new
    release is applied, and re-created by it when the new build still has it (a changed immutable field, e.g. a
    ClusterRoleBinding's `roleRef`)."""

    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    namespace: str | None = None
    #: The API group ("" the core group), with `kind` what `kubectl delete KIND.GROUP` names.
    group: str = ""
    why: str = Field(min_length=1)

    @property
    def resource(self) -> str:
        """`deployment.apps/minio`, as kubectl takes it."""
        kind = self.kind.lower()
        return f"{kind}.{self.group}/{self.name}" if self.group else f"{kind}/{self.name}"

    def __str__(self) -> str:
        return self.resource + (f" -n {self.namespace}" if self.namespace else "")


class UpgradeFrom(_Model):
    """What upstream says to do when this release replaces an installed `from` release: the objects to delete
    before applying, and notes for the user (data a user must move by hand, say). Everything else an upgrade does
    (pruning what the new build no longer has, replacing objects whose immutable fields change) kfinstall works
    out from the builds; this is only what the builds cannot tell."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from")
    deletes: list[UpgradeObject] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)


class Release(_Model):
    """One pinned Kubeflow release."""

    tag: str
    repo: str
    commit: str
    kustomize: KustomizeRequirement
    kubernetes: KubernetesPin
    minikube: VersionRange = Field(default_factory=VersionRange)
    apiserver_flags: list[str] = Field(default_factory=list)
    inotify: dict[str, int] = Field(default_factory=dict)
    resources: dict[Profile, Resources]
    components: list[Component] = Field(min_length=1)
    #: Images the registries deleted, replaced in what is built (first matching entry wins).
    image_substitutions: list[ImageSubstitution] = Field(default_factory=list)
    #: Images reported vanishing with no known replacement: shown by `plan`, never changed.
    images_at_risk: list[ImageAtRisk] = Field(default_factory=list)
    notes: str | None = None
    #: How `kfinstall verify` logs in and what it asks (None: not established for this release).
    gateway: Gateway | None = None
    #: Upstream's `access-ml-pipeline` PodDefault, the file in the tag (its CI applies it to the user's namespace so
    #: that `kfp.Client()` works in notebooks); `up` puts it into the user's namespace with Pipelines. None: the tag
    #: ships none.
    pipeline_access: str | None = None
    #: Upgrade notes per older release this one replaces in place (`up -k THIS` over an install of `from`).
    upgrade_from: list[UpgradeFrom] = Field(default_factory=list)

    @field_validator("tag", mode="before")
    @classmethod
    def _tag_shape(cls, value: Any) -> str:
        if isinstance(value, (int, float)):  # YAML reads 26.03 as the number 26.03 (and 26.10 as 26.1)
            raise ValueError(
                f"tag {value!r} is a number (YAML reads an unquoted 26.03 as 26.03 and 26.10 as 26.1): "
                "quote the tag as upstream writes it, e.g. tag: '26.03'"
            )
        if not isinstance(value, str) or not (_SEMVER_TAG.fullmatch(value) or _CALENDAR_TAG.fullmatch(value)):
            raise ValueError(f"{value!r} is not a tag like v1.4.0, or a calendar tag like 26.03 or 26.03.1")
        return value

    @field_validator("repo")
    @classmethod
    def _git_url(cls, value: str) -> str:
        """Only transports kfinstall lets git use (no `ext::`, which runs a command): see giturl.py."""
        from kfinstall.manifests.giturl import HINT, url_problem

        problem = url_problem(value)
        if problem:
            raise ValueError(f"{problem} ({HINT})")
        return value

    @field_validator("commit")
    @classmethod
    def _sha(cls, value: str) -> str:
        if not _SHA.match(value):
            raise ValueError(f"{value!r} is not a full 40-hex commit SHA")
        return value

    @field_validator("apiserver_flags")
    @classmethod
    def _flags(cls, flags: list[str]) -> list[str]:
        for flag in flags:
            if flag.startswith("-") or not re.fullmatch(r"[a-z-]+\.[\w.-]+=.+", flag):
                raise ValueError(f"{flag!r} is not a minikube --extra-config value like apiserver.key=value")
        return flags

    @field_validator("inotify")
    @classmethod
    def _inotify_names(cls, values: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(values) - {"max_user_instances", "max_user_watches"})
        if unknown:
            raise ValueError(f"unknown fs.inotify setting {', '.join(unknown)} (max_user_instances, max_user_watches)")
        return values

    @model_validator(mode="after")
    def _graph(self) -> Release:
        ids = [c.id for c in self.components]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate component id {', '.join(duplicates)}")
        known = set(ids)
        for component in self.components:
            unknown = [d for d in component.depends_on if d not in known]
            if unknown:
                raise ValueError(
                    f"component {component.id}: depends_on names unknown id {', '.join(unknown)} "
                    f"(known: {', '.join(ids)})"
                )
        stray = [d.component for d in self.kustomize.defects if d.component not in known]
        if stray:
            raise ValueError(f"kustomize.defects names unknown component {', '.join(stray)}")
        cycle = _find_cycle({c.id: c.depends_on for c in self.components})
        if cycle:
            raise ValueError(f"dependency cycle {' -> '.join(cycle)}")
        for entry in [*self.image_substitutions, *self.images_at_risk]:
            unknown = [c for c in entry.components if c not in known]
            if unknown:
                kind = "image_substitutions" if isinstance(entry, ImageSubstitution) else "images_at_risk"
                raise ValueError(f"{kind} {entry.image}: unknown component {', '.join(unknown)}")
        images = [s.image for s in self.image_substitutions]
        twice = sorted({i for i in images if images.count(i) > 1})
        if twice:
            raise ValueError(f"image_substitutions: {', '.join(twice)} listed twice")
        missing = [p for p in PROFILES if p not in self.resources]
        if missing:
            raise ValueError(f"resources: no entry for profile {', '.join(missing)}")
        for component in self.components:
            for profile in (p for p in PROFILES if p in component.profiles):
                outside = [d for d in component.depends_on if profile not in self.component(d).profiles]
                if outside:
                    raise ValueError(
                        f"component {component.id} is in profile {profile} but its dependency "
                        f"{', '.join(outside)} is not"
                    )
        return self

    @property
    def version(self) -> str:
        """The tag without the `v`: 1.4.0, 26.03 (calendar tags have none)."""
        return self.tag.removeprefix("v")

    @property
    def order(self) -> PackagingVersion:
        """The tag as a comparable version: v1.11.0-rc.1 < v1.11.0 < 26.03 < 26.03.1 (YY.MM is 26.3 > 1.11)."""
        return release_order(self.tag)

    def component(self, component_id: str) -> Component:
        for component in self.components:
            if component.id == component_id:
                return component
        raise UsageError(
            f"release {self.tag} has no component {component_id!r}",
            f"valid components: {', '.join(c.id for c in self.components)}",
        )

    def profile_components(self, profile: str) -> list[Component]:
        """The components of `profile`, in the file's (README) order."""
        check_profile(profile)
        return [c for c in self.components if profile in c.profiles]

    def resources_for(self, profile: str) -> Resources:
        check_profile(profile)
        return self.resources[profile]  # type: ignore[index]

    def substitute_image(self, image: str) -> str:
        """`image`, or its replacement when a registry no longer serves it (the first matching substitution)."""
        for substitution in self.image_substitutions:
            replacement = substitution.apply(image)
            if replacement is not None:
                return replacement
        return image

    def substitutions_for(self, component_ids: list[str]) -> list[ImageSubstitution]:
        """The substitutions concerning any of these components (what `plan` shows for a selection)."""
        return [s for s in self.image_substitutions if set(s.components) & set(component_ids)]

    def images_at_risk_for(self, component_ids: list[str]) -> list[ImageAtRisk]:
        return [a for a in self.images_at_risk if set(a.components) & set(component_ids)]

    def upgrade_notes(self, installed: str) -> UpgradeFrom | None:
        """Upstream's notes for replacing an install of `installed` (a tag, with or without `v`) by this release."""
        wanted = installed.removeprefix("v")
        return next((u for u in self.upgrade_from if u.from_.removeprefix("v") == wanted), None)

    @property
    def service_account_issuer(self) -> str | None:
        """The service-account issuer the release configures (from its apiserver flags), if any."""
        for flag in self.apiserver_flags:
            key, _, value = flag.partition("=")
            if key == "apiserver.service-account-issuer":
                return value
        return None


def check_profile(profile: str) -> None:
    """A UsageError naming the valid profiles when `profile` is not one."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}", f"valid profiles: {', '.join(PROFILES)}")


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One dependency cycle as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


class Pins(_Model):
    """All pinned releases, oldest first (the order of the file)."""

    releases: list[Release] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _unique_tags(self) -> Pins:
        tags = [r.tag for r in self.releases]
        duplicates = sorted({t for t in tags if tags.count(t) > 1})
        if duplicates:
            raise ValueError(f"duplicate release tag {', '.join(duplicates)}")
        for release in self.releases:
            for notes in release.upgrade_from:
                older = next((r for r in self.releases if r.version == notes.from_.removeprefix("v")), None)
                if older is None:
                    raise ValueError(f"release {release.tag}: upgrade_from {notes.from_} is not a pinned release")
                if older.order >= release.order:
                    raise ValueError(f"release {release.tag}: upgrade_from {notes.from_} is not an older release")
        return self

    @property
    def tags(self) -> list[str]:
        return [r.tag for r in self.releases]

    @property
    def newest(self) -> Release:
        return max(self.releases, key=lambda r: r.order)

    def by_age(self, *, newest_first: bool = False) -> list[Release]:
        """The releases ordered by version (the file is oldest first by convention, not by rule)."""
        return sorted(self.releases, key=lambda r: r.order, reverse=newest_first)

    def get(self, tag: str) -> Release:
        """The release `tag`, with or without a `v` ("1.4.0", "v1.4.0", "26.03", "v26.03"); an unknown tag is a
        UsageError listing the valid ones. A stray `v` before a calendar tag is forgiven: no tag differs from
        another by it alone, and `-k v26.03` by habit from the v1.x releases means 26.03."""
        wanted = tag.strip().removeprefix("v")
        for release in self.releases:
            if release.version == wanted:
                return release
        raise UsageError(
            f"Kubeflow {tag} is not a pinned release",
            f"valid releases: {', '.join(self.tags)} (see `kfinstall versions`)",
        )


def release_order(tag: str) -> PackagingVersion:
    """A release tag as a PEP 440 version (packaging accepts the `v` and `-rc.1`), for ordering releases."""
    return PackagingVersion(tag)


def shipped_pins_path() -> Path:
    """The pins file inside the installed wheel, else the repository root one (editable install, checkout)."""
    from kfinstall.release.shipped import shipped_file

    return shipped_file(PINS_FILENAME)


def load_pins(path: Path | None = None) -> Pins:
    """Load and validate a pins file (None: the one shipped with kfinstall).

    Every problem is a UsageError naming the file, the release and the field.
    """
    import yaml

    source = Path(path) if path is not None else shipped_pins_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read pins file {source}: {error.strerror or error}", "check --pins") from None
    try:  # libyaml's loader when PyYAML has it: the pins are parsed by every command, in a fraction of the time
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise UsageError(f"{source}: not valid YAML{line}: {problem}", "fix the YAML syntax of the pins file") from None
    if not isinstance(data, dict):
        raise UsageError(f"{source}: expected a mapping with a `releases:` list", "see manifests_pins.yaml")
    data = {k: v for k, v in data.items() if k != "schema_version"}
    try:
        return Pins.model_validate({**data, "source": str(source)})
    except ValidationError as error:
        raise UsageError(_describe(source, data, error), "fix the pins file (see manifests_pins.yaml)") from None


def _describe(source: Path, data: dict[str, Any], error: ValidationError) -> str:
    """`FILE: release v1.4.0: components[3] (dex).depends_on: ...` for the first few errors."""
    lines = []
    for item in error.errors()[:5]:
        loc = list(item["loc"])
        where = []
        if len(loc) >= 2 and loc[0] == "releases" and isinstance(loc[1], int):
            release = _at(data, ["releases", loc[1]])
            tag = release.get("tag") if isinstance(release, dict) else None
            where.append(f"release {tag or '#' + str(loc[1] + 1)}")
            loc = loc[2:]
            if len(loc) >= 2 and loc[0] == "components" and isinstance(loc[1], int):
                component = _at(release, ["components", loc[1]])
                cid = component.get("id") if isinstance(component, dict) else None
                where.append(f"component {cid or '#' + str(loc[1] + 1)}")
                loc = loc[2:]
        field = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "missing field"
        elif item["type"] == "extra_forbidden":
            message = "unknown field"
        label = ", ".join(where)
        lines.append(f"{label + ': ' if label else ''}{field + ': ' if field else ''}{message}")
    more = len(error.errors()) - len(lines)
    tail = f" (and {more} more)" if more > 0 else ""
    return f"invalid pins file {source}: " + "; ".join(lines) + tail


def _at(data: Any, path: list[Any]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
