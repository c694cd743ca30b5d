"""kfinstall.checks.registry: image references parsed as docker parses them, and a real registry's answers classified.

The reference tables are distribution/distribution's own (reference/normalize_test.go at v2.8.2:
TestValidateReferenceName, TestParseRepositoryInfo, TestParseDockerRef). The registry tests run the real
`docker-registry` (tests/registry_fixtures.py).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from kfinstall.checks import registry
from kfinstall.checks.registry import Client, parse_reference
from tests.registry_fixtures import Registry, oci_layout

# ---- references: distribution's tables --------------------------------------------------------------------------

VALID_NAMES = [  # TestValidateReferenceName
    "docker/docker",
    "library/debian",
    "debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
]
INVALID_NAMES = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
]
# TestParseRepositoryInfo: (remote name, familiar, full, ambiguous, domain); every spelling parses to the full name.
REPOSITORY_INFO = [
    ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"),
    ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"),
    ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"),
    ("other/library", "other/library", "docker.io/other/library", "", "docker.io"),
    ("private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"),
    ("privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"),
    ("private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"),
    ("privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"),
    ("private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase", "",
     "example.com:8000"),
    ("privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"),
    ("library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
     "index.docker.io/library/ubuntu-12.04-base", "docker.io"),
    ("library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"),
    ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"),
    ("store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"),
]  # fmt: skip
DIGEST = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
# TestParseDockerRef: input -> the reference docker pulls (a digest wins over a tag; no tag means latest).
DOCKER_REFS = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:latest", "docker.io/library/busybox:latest"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox:latest", "docker.io/library/busybox:latest"),
    ("library/busybox:latest", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("gcr.io/library/busybox", "gcr.io/library/busybox:latest"),
    (f"gcr.io/library/busybox:latest@{DIGEST}", f"gcr.io/library/busybox@{DIGEST}"),
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_distributions_valid_names_parse(name: str) -> None:
    assert parse_reference(name).path


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_distributions_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        parse_reference(name)


@pytest.mark.parametrize(("remote", "familiar", "full", "ambiguous", "domain"), REPOSITORY_INFO)
def test_every_spelling_of_a_repository_names_the_same_domain_and_path(remote, familiar, full, ambiguous, domain):
    for spelling in filter(None, (familiar, full, ambiguous)):
        parsed = parse_reference(spelling)
        assert (parsed.name, parsed.domain, parsed.path) == (full, domain, remote)


@pytest.mark.parametrize(("text", "pulled"), DOCKER_REFS)
def test_the_manifest_asked_for_is_the_one_docker_pulls(text: str, pulled: str) -> None:
    parsed = parse_reference(text)
    separator = "@" if parsed.digest else ":"
    assert f"{parsed.name}{separator}{parsed.manifest_reference}" == pulled


def test_docker_hub_images_are_asked_of_registry_1_docker_io() -> None:
    assert parse_reference("kubeflowmanifestswg/oidc-authservice:e236439").api_host == "registry-1.docker.io"
    assert parse_reference("gcr.io/arrikto/kubeflow/oidc-authservice:28c59ef").api_host == "gcr.io"
    assert parse_reference("localhost:5000/a/b:c").api_host == "localhost:5000"


def test_a_bearer_challenge_gives_realm_service_and_scope() -> None:  # docs/spec/auth/token.md's example
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert registry.parse_challenge(header) == (
        "bearer",
        {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
         "scope": "repository:samalba/my-app:pull,push"},
    )  # fmt: skip


def test_gcr_ios_billing_refusal_is_denied_in_its_own_words() -> None:  # arrikto/oidc-authservice#127
    body = b'{"errors":[{"code":"DENIED","message":"This API method requires billing to be enabled."}]}'
    assert registry.classify(403, body) == ("denied", "DENIED: This API method requires billing to be enabled.")


def test_a_server_error_is_could_not_check_not_missing() -> None:
    assert registry.classify(503, b"")[0] == "unreachable"


@pytest.mark.parametrize(("machine", "platform"), [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"),
                                                   ("arm64", "linux/arm64")])  # fmt: skip
def test_the_nodes_platform_is_the_hosts(machine: str, platform: str) -> None:
    assert registry.host_platform(machine) == platform


# ---- against the real registry -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pushed(token_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("layouts")
    return {
        "both": token_registry.push(oci_layout(root / "both", ["amd64", "arm64"], as_index=True), "unit/both:v1"),
        "arm64": token_registry.push(oci_layout(root / "arm64", ["arm64"], as_index=True), "unit/arm64:v1"),
        "single": token_registry.push(oci_layout(root / "single", ["amd64"], as_index=False), "unit/single:v1"),
    }


def test_a_multi_arch_index_names_its_platforms(pushed) -> None:
    answer = Client(platform="linux/amd64").check(pushed["both"])
    assert (answer.state, answer.platforms) == ("present", ("linux/amd64", "linux/arm64"))


def test_a_single_manifest_names_its_platform_from_its_config(pushed) -> None:
    answer = Client(platform="linux/arm64").check(pushed["single"])
    assert (answer.state, answer.platforms) == ("present", ("linux/amd64",))


def test_an_image_by_digest_is_found(pushed, token_registry: Registry) -> None:
    digest = (
        Client(platform=None)
        ._ask(parse_reference(pushed["arm64"]), "HEAD", "/v2/unit/arm64/manifests/v1", registry.ACCEPT)
        .headers["docker-content-digest"]
    )
    answer = Client(platform="linux/amd64").check(f"{token_registry.host}/unit/arm64@{digest}")
    assert (answer.state, answer.platforms) == ("present", ("linux/arm64",))


def test_a_deleted_tag_is_missing(pushed, token_registry: Registry) -> None:
    answer = Client().check(f"{token_registry.host}/unit/both:v0-deleted")
    assert (answer.state, answer.words) == ("missing", "MANIFEST_UNKNOWN: manifest unknown")


def test_without_a_platform_only_existence_is_asked(pushed) -> None:
    answer = Client(platform=None).check(pushed["arm64"])
    assert (answer.state, answer.platforms) == ("present", None)


def test_one_token_per_scope_however_many_images_share_it(pushed, token_registry: Registry) -> None:
    before = len(token_registry.issuer.scopes())
    images = [f"{token_registry.host}/unit/both:v1", f"{token_registry.host}/unit/both:v2", pushed["both"]]
    answers = registry.check_all(images, client=Client(platform="linux/amd64"), concurrency=3)
    assert [a.state for a in answers.values()] == ["present", "missing"]  # the duplicate is asked once
    assert token_registry.issuer.scopes()[before:] == ["repository:unit/both:pull"]


def test_a_registry_without_authentication_is_asked_directly(open_registry: Registry, tmp_path: Path) -> None:
    image = open_registry.push(oci_layout(tmp_path / "both", ["amd64", "arm64"], as_index=True), "mirror/x:v1")
    answer = Client(platform="linux/arm64").check(image)
    assert (answer.state, answer.platforms) == ("present", ("linux/amd64", "linux/arm64"))


def test_a_registry_that_does_not_answer_costs_one_timeout_not_one_per_image() -> None:
    """A listener that accepts and never answers (a network-boundary stand-in for a dead registry)."""
    accepted = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        host = f"127.0.0.1:{server.getsockname()[1]}"

        def accept() -> None:
            while True:
                try:
                    accepted.append(server.accept()[0])
                except OSError:
                    return

        threading.Thread(target=accept, daemon=True).start()
        images = [f"{host}/a/b:{tag}" for tag in ("v1", "v2", "v3")]
        answers = registry.check_all(images, client=Client(timeout=0.5), concurrency=1)
        server.close()
    for connection in accepted:
        connection.close()
    assert {a.state for a in answers.values()} == {"unreachable"}
    assert all("timed out" in a.words for a in answers.values())
    assert len(accepted) == 1


def test_a_blob_redirect_is_followed_without_the_registrys_token(redirecting_registry: Registry, tmp_path) -> None:
    image = redirecting_registry.push(oci_layout(tmp_path / "single", ["arm64"], as_index=False), "cdn/x:v1")
    answer = Client(platform="linux/amd64").check(image)
    assert (answer.state, answer.platforms) == ("present", ("linux/arm64",))
    assert redirecting_registry.blobs.headers, "the config blob was read from where the registry redirected"
    assert all("authorization" not in headers for headers in redirecting_registry.blobs.headers)


def test_a_token_endpoints_refusal_is_denied_in_its_words(token_registry: Registry) -> None:
    answer = Client().check(f"{token_registry.host}/billing/oidc-authservice:28c59ef")
    assert (answer.state, answer.words) == ("denied", "DENIED: This API method requires billing to be enabled.")


def test_where_manifest_reads_count_as_pulls_an_amd64_host_only_asks_head(
    token_registry: Registry, pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker Hub counts manifest GETs against the anonymous pull limit; this registry is made to stand for it."""
    monkeypatch.setitem(registry.PULL_COUNTED, token_registry.host, "linux/amd64")
    before = len(token_registry.requests())
    answer = Client(platform="linux/amd64").check(pushed["both"])
    assert (answer.state, answer.platforms) == ("present", None)
    asked = [(method, uri) for method, uri, _, agent in token_registry.requests()[before:] if "kfinstall" in agent]
    assert {method for method, _ in asked} == {"HEAD"} and all("/manifests/" in uri for _, uri in asked)


def test_a_blob_store_that_cannot_be_reached_leaves_the_platform_unknown_not_the_image(
    redirecting_registry: Registry, tmp_path
) -> None:
    image = redirecting_registry.push(oci_layout(tmp_path / "single", ["arm64"], as_index=False), "cdn/y:v1")
    redirecting_registry.blobs.stop()  # the CDN is gone; the registry still answers
    client = Client(platform="linux/amd64", timeout=5)
    answer = client.check(image)
    assert (answer.state, answer.platforms) == ("present", None)
    assert client.check(f"{redirecting_registry.host}/cdn/y:v0").state == "missing"  # the registry is not "dead"
