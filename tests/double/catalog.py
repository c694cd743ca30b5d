"""The built-in API resources the double serves, and which of them a given Kubernetes minor version serves.

The double must answer discovery exactly enough that the real kubectl maps every kind in the real Kubeflow manifests
(v1.4.0 still uses apiextensions.k8s.io/v1beta1, rbac v1beta1, admissionregistration v1beta1, policy/v1beta1 and
autoscaling/v2beta2, which a 1.19 server serves and a 1.34 server does not). Removal versions follow the upstream
deprecated API migration guide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One resource of one group/version, as discovery lists it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    #: Subresources served ("status", "scale").
    subresources: tuple[str, ...] = ()
    #: First minor version that serves it, and the first that no longer does (None: still served).
    since: int = 0
    until: int | None = None

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps` / `pods`: how the apiserver names the resource in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def served_at(self, minor: int) -> bool:
        return self.since <= minor and (self.until is None or minor < self.until)


@dataclass(frozen=True)
class _Kind:
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    since: int = 0
    until: int | None = None


_ALL = ("all",)
_STATUS = ("status",)
_SCALE = ("status", "scale")

#: (group, version, since, until) -> kinds. A kind's own since/until narrows the group version's.
_GROUPS: list[tuple[str, str, int, int | None, list[_Kind]]] = [
    (
        "",
        "v1",
        0,
        None,
        [
            _Kind("Binding", "bindings", verbs=("create",)),
            _Kind("ComponentStatus", "componentstatuses", False, ("cs",), ("get", "list")),
            _Kind("ConfigMap", "configmaps", short_names=("cm",)),
            _Kind("Endpoints", "endpoints", short_names=("ep",)),
            _Kind("Event", "events", short_names=("ev",)),
            _Kind("LimitRange", "limitranges", short_names=("limits",)),
            _Kind("Namespace", "namespaces", False, ("ns",), NO_COLLECTION_DELETE, subresources=_STATUS),
            _Kind("Node", "nodes", False, ("no",), subresources=_STATUS),
            _Kind("PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=_STATUS),
            _Kind("PersistentVolume", "persistentvolumes", False, ("pv",), subresources=_STATUS),
            _Kind("Pod", "pods", short_names=("po",), categories=_ALL, subresources=("status", "log")),
            _Kind("PodTemplate", "podtemplates"),
            _Kind(
                "ReplicationController",
                "replicationcontrollers",
                short_names=("rc",),
                categories=_ALL,
                subresources=_SCALE,
            ),
            _Kind("ResourceQuota", "resourcequotas", short_names=("quota",), subresources=_STATUS),
            _Kind("Secret", "secrets"),
            # The TokenRequest API (projected service-account tokens), which minikube serves.
            _Kind("ServiceAccount", "serviceaccounts", short_names=("sa",), subresources=("token",)),
            _Kind(
                "Service",
                "services",
                short_names=("svc",),
                verbs=NO_COLLECTION_DELETE,
                categories=_ALL,
                subresources=_STATUS,
            ),
        ],
    ),
    (
        "apps",
        "v1",
        0,
        None,
        [
            _Kind("ControllerRevision", "controllerrevisions"),
            _Kind("DaemonSet", "daemonsets", short_names=("ds",), categories=_ALL, subresources=_STATUS),
            _Kind("Deployment", "deployments", short_names=("deploy",), categories=_ALL, subresources=_SCALE),
            _Kind("ReplicaSet", "replicasets", short_names=("rs",), categories=_ALL, subresources=_SCALE),
            _Kind("StatefulSet", "statefulsets", short_names=("sts",), categories=_ALL, subresources=_SCALE),
        ],
    ),
    ("authentication.k8s.io", "v1", 0, None, [_Kind("TokenReview", "tokenreviews", False, verbs=("create",))]),
    (
        "authorization.k8s.io",
        "v1",
        0,
        None,
        [
            _Kind("LocalSubjectAccessReview", "localsubjectaccessreviews", verbs=("create",)),
            _Kind("SelfSubjectAccessReview", "selfsubjectaccessreviews", False, verbs=("create",)),
            _Kind("SelfSubjectRulesReview", "selfsubjectrulesreviews", False, verbs=("create",)),
            _Kind("SubjectAccessReview", "subjectaccessreviews", False, verbs=("create",)),
        ],
    ),
    (
        "autoscaling",
        "v2",
        23,
        None,
        [
            _Kind(
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                short_names=("hpa",),
                categories=_ALL,
                subresources=_STATUS,
            )
        ],
    ),
    (
        "autoscaling",
        "v1",
        0,
        None,
        [
            _Kind(
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                short_names=("hpa",),
                categories=_ALL,
                subresources=_STATUS,
            )
        ],
    ),
    (
        "autoscaling",
        "v2beta1",
        0,
        25,
        [
            _Kind(
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                short_names=("hpa",),
                categories=_ALL,
                subresources=_STATUS,
            )
        ],
    ),
    (
        "autoscaling",
        "v2beta2",
        0,
        26,
        [
            _Kind(
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                short_names=("hpa",),
                categories=_ALL,
                subresources=_STATUS,
            )
        ],
    ),
    (
        "batch",
        "v1",
        0,
        None,
        [
            _Kind("CronJob", "cronjobs", short_names=("cj",), categories=_ALL, subresources=_STATUS, since=21),
            _Kind("Job", "jobs", categories=_ALL, subresources=_STATUS),
        ],
    ),
    (
        "batch",
        "v1beta1",
        0,
        25,
        [_Kind("CronJob", "cronjobs", short_names=("cj",), categories=_ALL, subresources=_STATUS)],
    ),
    (
        "certificates.k8s.io",
        "v1",
        19,
        None,
        [_Kind("CertificateSigningRequest", "certificatesigningrequests", False, ("csr",), subresources=_STATUS)],
    ),
    ("coordination.k8s.io", "v1", 0, None, [_Kind("Lease", "leases")]),
    ("discovery.k8s.io", "v1", 21, None, [_Kind("EndpointSlice", "endpointslices")]),
    ("discovery.k8s.io", "v1beta1", 17, 25, [_Kind("EndpointSlice", "endpointslices")]),
    ("events.k8s.io", "v1", 19, None, [_Kind("Event", "events", short_names=("ev",))]),
    (
        "networking.k8s.io",
        "v1",
        0,
        None,
        [
            _Kind("IngressClass", "ingressclasses", False, since=19),
            _Kind("Ingress", "ingresses", short_names=("ing",), subresources=_STATUS, since=19),
            _Kind("NetworkPolicy", "networkpolicies", short_names=("netpol",)),
        ],
    ),
    (
        "networking.k8s.io",
        "v1beta1",
        0,
        22,
        [
            _Kind("IngressClass", "ingressclasses", False),
            _Kind("Ingress", "ingresses", short_names=("ing",), subresources=_STATUS),
        ],
    ),
    ("node.k8s.io", "v1", 20, None, [_Kind("RuntimeClass", "runtimeclasses", False)]),
    ("node.k8s.io", "v1beta1", 14, 25, [_Kind("RuntimeClass", "runtimeclasses", False)]),
    (
        "policy",
        "v1",
        21,
        None,
        [_Kind("PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",), subresources=_STATUS)],
    ),
    (
        "policy",
        "v1beta1",
        0,
        25,
        [
            _Kind("PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",), subresources=_STATUS),
            _Kind("PodSecurityPolicy", "podsecuritypolicies", False, ("psp",)),
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        0,
        None,
        [
            _Kind("ClusterRoleBinding", "clusterrolebindings", False),
            _Kind("ClusterRole", "clusterroles", False),
            _Kind("RoleBinding", "rolebindings"),
            _Kind("Role", "roles"),
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1beta1",
        0,
        22,
        [
            _Kind("ClusterRoleBinding", "clusterrolebindings", False),
            _Kind("ClusterRole", "clusterroles", False),
            _Kind("RoleBinding", "rolebindings"),
            _Kind("Role", "roles"),
        ],
    ),
    ("scheduling.k8s.io", "v1", 14, None, [_Kind("PriorityClass", "priorityclasses", False, ("pc",))]),
    (
        "storage.k8s.io",
        "v1",
        0,
        None,
        [
            _Kind("CSIDriver", "csidrivers", False, since=18),
            _Kind("CSINode", "csinodes", False, since=17),
            _Kind("StorageClass", "storageclasses", False, ("sc",)),
            _Kind("VolumeAttachment", "volumeattachments", False, subresources=_STATUS),
        ],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        16,
        None,
        [
            _Kind("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False),
            _Kind("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False),
        ],
    ),
    (
        "admissionregistration.k8s.io",
        "v1beta1",
        0,
        22,
        [
            _Kind("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False),
            _Kind("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False),
        ],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        16,
        None,
        [_Kind("CustomResourceDefinition", "customresourcedefinitions", False, ("crd", "crds"), subresources=_STATUS)],
    ),
    (
        "apiextensions.k8s.io",
        "v1beta1",
        0,
        22,
        [_Kind("CustomResourceDefinition", "customresourcedefinitions", False, ("crd", "crds"), subresources=_STATUS)],
    ),
    ("apiregistration.k8s.io", "v1", 10, None, [_Kind("APIService", "apiservices", False, subresources=_STATUS)]),
    ("apiregistration.k8s.io", "v1beta1", 0, 22, [_Kind("APIService", "apiservices", False, subresources=_STATUS)]),
]


@dataclass
class Catalog:
    """The resource types served at one Kubernetes minor version (built-ins; CRD kinds are added at runtime)."""

    minor: int
    types: list[ResourceType] = field(default_factory=list)

    @classmethod
    def builtin(cls, minor: int) -> Catalog:
        types: list[ResourceType] = []
        for group, version, since, until, kinds in _GROUPS:
            for k in kinds:
                rt = ResourceType(
                    group=group,
                    version=version,
                    kind=k.kind,
                    plural=k.plural,
                    namespaced=k.namespaced,
                    short_names=k.short_names,
                    verbs=k.verbs,
                    categories=k.categories,
                    subresources=k.subresources,
                    since=max(since, k.since),
                    until=min(x for x in (until, k.until, 10_000) if x is not None),
                )
                if rt.served_at(minor):
                    types.append(rt)
        return cls(minor=minor, types=types)


#: Kinds whose writes through the main resource never set status (the status subresource owns it).
STATUS_OWNED = {
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("", "Pod"),
    ("", "Service"),
    ("", "Namespace"),
    ("", "PersistentVolumeClaim"),
    ("", "Node"),
    ("batch", "Job"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
}


#: (group, version, kind or "*") -> (minor it is deprecated from, what to use instead or None). The removal version
#: comes from the catalog. The apiserver sends these as `Warning` headers (from 1.19 on); kubectl prints them.
DEPRECATIONS: dict[tuple[str, str, str], tuple[int, str | None]] = {
    ("apiextensions.k8s.io", "v1beta1", "*"): (16, "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io", "v1beta1", "*"): (16, "admissionregistration.k8s.io/v1"),
    ("rbac.authorization.k8s.io", "v1beta1", "*"): (17, "rbac.authorization.k8s.io/v1"),
    ("apiregistration.k8s.io", "v1beta1", "*"): (19, "apiregistration.k8s.io/v1"),
    ("networking.k8s.io", "v1beta1", "*"): (19, "networking.k8s.io/v1"),
    ("policy", "v1beta1", "PodDisruptionBudget"): (21, "policy/v1"),
    ("policy", "v1beta1", "PodSecurityPolicy"): (21, None),
    ("batch", "v1beta1", "*"): (21, "batch/v1"),
    ("discovery.k8s.io", "v1beta1", "*"): (21, "discovery.k8s.io/v1"),
    ("node.k8s.io", "v1beta1", "*"): (22, "node.k8s.io/v1"),
    ("autoscaling", "v2beta1", "*"): (22, "autoscaling/v2"),
    ("autoscaling", "v2beta2", "*"): (23, "autoscaling/v2"),
    ("", "v1", "ComponentStatus"): (19, None),
    ("", "v1", "Endpoints"): (33, "discovery.k8s.io/v1 EndpointSlice"),
}


def deprecation_warning(rt: ResourceType, minor: int) -> str | None:
    """The apiserver's deprecation warning for requests to `rt` at this minor version, if any."""
    if minor < 19:
        return None
    info = DEPRECATIONS.get((rt.group, rt.version, rt.kind)) or DEPRECATIONS.get((rt.group, rt.version, "*"))
    if info is None or minor < info[0]:
        return None
    deprecated, replacement = info
    text = f"{rt.group_version} {rt.kind} is deprecated in v1.{deprecated}+"
    if rt.until is not None and rt.until < 10_000:
        text += f", unavailable in v1.{rt.until}+"
    if replacement:
        text += f"; use {replacement}" if " " in replacement else f"; use {replacement} {rt.kind}"
    return text
