"""The user's Profile named and owned after the login: pure functions over built objects.

The code: src/kfinstall/manifests/login.py.
"""

from __future__ import annotations

import re

import pytest

from kfinstall.manifests.login import Login, own_profiles, profile_name, set_login

#: What kustomize 5.8 builds from common/user-namespace/base of v1.9.1, v1.10.2 and v1.11.0
#: (kubeflow/community-distribution#3315).
UNSUBSTITUTED = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Profile",
    "metadata": {"name": "$(profile-name)"},
    "spec": {"owner": {"kind": "User", "name": "$(user)"}},
}
LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def test_the_default_user_gets_upstreams_namespace_name() -> None:
    # common/user-namespace/base/params.env of every release: user@example.com -> kubeflow-user-example-com
    assert profile_name("user@example.com") == "kubeflow-user-example-com"


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("Ada.Lovelace+kf@Lab.Example", "kubeflow-ada-lovelace-kf-lab-example"),
        ("first_last@example.org", "kubeflow-first-last-example-org"),
    ],
)
def test_characters_a_namespace_cannot_hold_become_dashes(email: str, name: str) -> None:
    assert profile_name(email) == name


def test_a_long_email_still_gives_a_valid_namespace_name() -> None:
    name = profile_name("a" * 52 + ".-b@example.com")
    assert len(name) <= 63 and LABEL.fullmatch(name)


def test_a_profile_left_with_kustomize_vars_is_named_and_owned_after_the_login() -> None:
    changed = own_profiles([UNSUBSTITUTED], "user@example.com")

    assert changed is not None
    assert changed[0]["metadata"]["name"] == "kubeflow-user-example-com"
    assert changed[0]["spec"]["owner"] == {"kind": "User", "name": "user@example.com"}
    assert UNSUBSTITUTED["metadata"]["name"] == "$(profile-name)"  # pure: the input is untouched


def test_the_default_users_profile_follows_a_new_email() -> None:
    profile = {**UNSUBSTITUTED, "metadata": {"name": "kubeflow-user-example-com"}}
    profile["spec"] = {"owner": {"kind": "User", "name": "user@example.com"}}

    (changed,) = own_profiles([profile], "ada@lab.example") or []

    assert (changed["metadata"]["name"], changed["spec"]["owner"]["name"]) == (
        "kubeflow-ada-lab-example",
        "ada@lab.example",
    )


def test_other_profiles_and_objects_are_left_alone() -> None:
    team = {**UNSUBSTITUTED, "metadata": {"name": "team-a"}, "spec": {"owner": {"kind": "User", "name": "bob@x.org"}}}
    assert own_profiles([team, {"kind": "ConfigMap", "metadata": {"name": "c"}}], "ada@lab.example") is None


def test_set_login_moves_a_profile_beside_dex_the_same_way() -> None:
    config = {"kind": "ConfigMap", "data": {"config.yaml": "issuer: x\nstaticPasswords:\n- email: user@example.com\n"}}
    profile = {**UNSUBSTITUTED, "metadata": {"name": "kubeflow-user-example-com"}}
    profile["spec"] = {"owner": {"kind": "User", "name": "user@example.com"}}

    changed = set_login([config, profile], Login("ada@lab.example"))

    assert changed is not None and changed[1]["metadata"]["name"] == "kubeflow-ada-lab-example"
