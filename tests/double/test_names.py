"""metadata.name of every kind is validated like kube-apiserver does it (rules and sources in tests/double/names.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.double.fixtures import ClusterHandle

SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
PROFILE_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: profiles.kubeflow.org}
spec:
  group: kubeflow.org
  scope: Cluster
  names: {kind: Profile, plural: profiles, singular: profile, listKind: ProfileList}
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
#: What kubectl's embedded kustomize v5.8.1 makes of common/user-namespace/base of v1.9.1–v1.11.0.
UNSUBSTITUTED_PROFILE = """
apiVersion: kubeflow.org/v1beta1
kind: Profile
metadata: {name: $(profile-name)}
spec: {owner: {kind: User, name: $(user)}}
"""


def _apply(cluster: ClusterHandle, manifest: str):
    return cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)


def _post(cluster: ClusterHandle, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        cluster.url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_established(cluster: ClusterHandle, crd: str) -> None:
    result = cluster.kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=30s")
    assert result.returncode == 0, result.stderr


def test_a_custom_resource_named_like_an_unsubstituted_kustomize_var_is_refused_as_in_issue_3315(
    cluster: ClusterHandle,
) -> None:
    # apiextensions-apiserver pkg/registry/customresource/validator.go: NameIsDNSSubdomain for every custom resource;
    # the message is the one kubeflow/community-distribution#3315 quotes from a real cluster.
    assert _apply(cluster, PROFILE_CRD).returncode == 0
    _wait_established(cluster, "profiles.kubeflow.org")

    result = _apply(cluster, UNSUBSTITUTED_PROFILE)

    assert result.returncode == 1
    assert (
        f'The Profile "$(profile-name)" is invalid: metadata.name: Invalid value: "$(profile-name)": {SUBDOMAIN_RULE}'
        in result.stderr
    )
    assert cluster.objects("Profile", group="kubeflow.org") == []


def test_the_refusal_is_a_422_invalid_status_naming_group_kind_and_cause(cluster: ClusterHandle) -> None:
    # apimachinery pkg/api/errors/errors.go NewInvalid: message "<Kind>.<group> "<name>" is invalid: ...", details
    # with group, kind, name and one FieldValueInvalid cause per message.
    assert _apply(cluster, PROFILE_CRD).returncode == 0
    _wait_established(cluster, "profiles.kubeflow.org")

    code, status = _post(
        cluster,
        "/apis/kubeflow.org/v1beta1/profiles",
        {"apiVersion": "kubeflow.org/v1beta1", "kind": "Profile", "metadata": {"name": "$(profile-name)"}},
    )

    assert code == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        f'Profile.kubeflow.org "$(profile-name)" is invalid: metadata.name: Invalid value: "$(profile-name)": '
        f"{SUBDOMAIN_RULE}"
    )
    assert status["details"] == {
        "name": "$(profile-name)",
        "group": "kubeflow.org",
        "kind": "Profile",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "$(profile-name)": {SUBDOMAIN_RULE}',
                "field": "metadata.name",
            }
        ],
    }


def test_a_namespace_name_is_an_rfc_1123_label_so_dots_are_refused(cluster: ClusterHandle) -> None:
    # pkg/apis/core/validation/validation.go ValidateNamespaceName = NameIsDNSLabel; apimachinery's IsDNS1123Label
    # says "must not contain dots" of a valid subdomain.
    result = _apply(cluster, "apiVersion: v1\nkind: Namespace\nmetadata: {name: kubeflow.user}\n")

    assert result.returncode == 1
    assert (
        'The Namespace "kubeflow.user" is invalid: metadata.name: Invalid value: "kubeflow.user": must not contain dots'
        in result.stderr
    )


def test_a_namespace_name_longer_than_63_characters_is_refused(cluster: ClusterHandle) -> None:
    name = "kubeflow-" + "a" * 60
    result = _apply(cluster, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")

    assert result.returncode == 1
    assert f'Invalid value: "{name}": must be no more than 63 characters' in result.stderr


def test_a_service_name_is_a_dns_1035_label_so_it_must_start_with_a_letter(cluster: ClusterHandle) -> None:
    # pkg/apis/core/validation/validation.go ValidateServiceName = NameIsDNS1035Label.
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: 2fa, namespace: default}\nspec: {ports: [{port: 80}]}\n"

    result = _apply(cluster, service)

    assert result.returncode == 1
    assert (
        'The Service "2fa" is invalid: metadata.name: Invalid value: "2fa": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ) in result.stderr


def test_a_configmap_may_be_named_like_a_domain(cluster: ClusterHandle) -> None:
    # NameIsDNSSubdomain (ValidateConfigMapName): dots are fine where a Namespace would refuse them.
    result = _apply(cluster, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dex.example.com, namespace: default}\n")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kind", ["ClusterRole", "ClusterRoleBinding"])
def test_rbac_names_need_only_be_path_segments_so_colons_and_capitals_are_accepted(
    cluster: ClusterHandle, kind: str
) -> None:
    # pkg/apis/rbac/validation/validation.go ValidateRBACName = path.IsValidPathSegmentName: Kubeflow's own
    # `kubeflow-kubernetes-edit` style names and Kubernetes' `system:aggregate-to-edit` style names alike.
    manifest = f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: 'system:Kubeflow-Edit'}}\n"
    if kind == "ClusterRoleBinding":
        manifest += "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"

    result = _apply(cluster, manifest)

    assert result.returncode == 0, result.stderr


def test_an_rbac_name_with_a_percent_sign_is_refused_as_no_path_segment(cluster: ClusterHandle) -> None:
    # staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go: NameMayNotContain "/" and "%".
    code, status = _post(
        cluster,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "50%"}, "rules": []},
    )

    assert code == 422
    assert status["message"] == (
        'Role.rbac.authorization.k8s.io "50%" is invalid: metadata.name: Invalid value: "50%": may not contain \'%\''
    )


def test_a_crd_must_be_named_plural_dot_group(cluster: ClusterHandle) -> None:
    # apiextensions-apiserver pkg/apis/apiextensions/validation/validation.go ValidateCustomResourceDefinition.
    wrong = PROFILE_CRD.replace("name: profiles.kubeflow.org", "name: profile.kubeflow.org")

    result = _apply(cluster, wrong)

    assert result.returncode == 1
    assert (
        'The CustomResourceDefinition "profile.kubeflow.org" is invalid: metadata.name: Invalid value: '
        '"profile.kubeflow.org": must be spec.names.plural+"."+spec.group'
    ) in result.stderr


def test_a_name_breaking_two_rules_gets_both_errors_aggregated(cluster: ClusterHandle) -> None:
    # ValidateObjectMeta appends one error per message of the name function; errors.NewInvalid aggregates them.
    name = "A" * 254
    code, status = _post(
        cluster,
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}},
    )

    assert code == 422
    assert [cause["message"] for cause in status["details"]["causes"]] == [
        f'Invalid value: "{name}": must be no more than 253 characters',
        f'Invalid value: "{name}": {SUBDOMAIN_RULE}',
    ]
    assert status["message"].startswith(
        f'ConfigMap "{name}" is invalid: [metadata.name: Invalid value: "{name}": must be no more than 253 characters, '
    )


def test_before_kubernetes_1_20_the_message_said_dns_1123(make_cluster) -> None:
    # kubernetes/kubernetes#94182 (1.20) reworded "a DNS-1123 subdomain" to "a lowercase RFC 1123 subdomain".
    old = make_cluster(k8s_version="v1.19.3")

    result = _apply(old, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: default}\n")

    assert result.returncode == 1
    assert (
        'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a DNS-1123 subdomain must '
        "consist of lower case alphanumeric characters" in result.stderr
    )
