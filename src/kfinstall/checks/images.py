"""Verdicts on the plan's images (`kfinstall check --images`): what their registries said, as rows. Pure."""

from __future__ import annotations

from kfinstall.checks import registry
from kfinstall.checks.gather import ImageFacts
from kfinstall.checks.request import CheckResult


def check_images(facts: ImageFacts) -> list[CheckResult]:
    """A row per image a registry no longer serves (or serves without the nodes' platform), a warning per registry
    that could not be asked, and a summary row when nothing failed. Unreachable is never "missing"."""
    required = f"served for {facts.platform}" if facts.platform else "served"
    if facts.error is not None:
        return [
            CheckResult(
                "images",
                "warn",
                "not listed",
                required,
                f"could not check the images: {facts.error}",
                "`kfinstall check --images` needs the manifests (fetched once, then cached) and the network",
            )
        ]
    results: list[CheckResult] = []
    unreachable: dict[str, list[registry.Availability]] = {}
    unseen: list[registry.Availability] = []
    for image, components in facts.users.items():
        answer = facts.answers.get(image) or registry.Availability(image, "unreachable", "not asked")
        without = " ".join(f"--without {component}" for component in components)
        if answer.state == "unreachable":
            unreachable.setdefault(answer.registry or "?", []).append(answer)
        elif answer.state in ("missing", "denied", "invalid"):
            why = {
                "missing": "the registry no longer serves it",
                "denied": "the registry refuses it to anonymous pulls (deleted, private, or its project closed)",
                "invalid": "not an image reference",
            }[answer.state]
            them = "it" if len(components) == 1 else "them"
            results.append(
                _unpullable(
                    image,
                    components,
                    required,
                    f"{why}: {answer.words}",
                    f"pods of {', '.join(components)} would wait in ImagePullBackOff; leave {them} out ({without}) "
                    "or choose another release (`kfinstall versions`)",
                )
            )
        elif answer.platforms is None:
            unseen.append(answer)
        elif facts.platform is not None and facts.platform not in answer.platforms:
            results.append(
                _unpullable(
                    image,
                    components,
                    required,
                    f"no {facts.platform} image: the registry has {', '.join(answer.platforms) or 'no platform'}",
                    f"the kubelet would fail with 'no matching manifest for {facts.platform}'; install on a "
                    f"{', '.join(answer.platforms) or 'different'} machine, leave it out ({without}), or choose "
                    "another release",
                )
            )
    for host, answers in unreachable.items():
        results.append(
            CheckResult(
                "images",
                "warn",
                f"{len(answers)} image(s) on {host}",
                required,
                f"could not check: {answers[0].words}",
                f"check the network or proxy (HTTPS_PROXY) and run `kfinstall check --images` again; {host}'s "
                "images were not judged",
            )
        )
    asked = len(facts.users) - sum(len(answers) for answers in unreachable.values())
    if asked and not any(result.status == "fail" for result in results):
        hosts = {answer.registry for answer in facts.answers.values() if answer.state != "unreachable"}
        note = ""
        if unseen and facts.platform:
            hub = all(answer.registry in registry.PULL_COUNTED for answer in unseen)
            why = ": Docker Hub counts manifest reads as pulls" if hub else ""
            note = f" ({len(unseen)} not checked for {facts.platform}{why})"
        results.insert(
            0,
            CheckResult(
                "images",
                "ok",
                f"{asked} image(s) on {len(hosts)} registr{'y' if len(hosts) == 1 else 'ies'}",
                required,
                ("all available" if not unreachable else f"{asked} of {len(facts.users)} available") + note,
            ),
        )
    return results


def _unpullable(image: str, components: list[str], required: str, message: str, hint: str) -> CheckResult:
    """The row of an image the nodes could not pull: named after the components that run it, the fix after it."""
    return CheckResult(f"image: {', '.join(components)}", "fail", image, required, message, f"{image}: {hint}")
