"""Identifier validation: strict shapes for what payloads, comments and config supply."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.gitops.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    validate,
    validate_digest,
    validate_image_repository,
    validate_image_tag,
    validate_model_alias,
    validate_model_name,
    validate_model_version,
    validate_pipeline_name,
    validate_repo_path,
    validate_run_id,
    validate_stage_name,
)

Validator = Callable[[object], str]
DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

VALID: list[tuple[Validator, str]] = [
    (validate_model_name, "churn"),
    (validate_model_name, "ml.prod.churn_model-v2"),
    (validate_model_name, "A" * 128),
    (validate_model_version, "7"),
    (validate_model_version, "9999999999"),
    (validate_model_alias, "champion"),
    (validate_model_alias, "_shadow-2"),
    (validate_run_id, "0123456789abcdef0123456789abcdef"),
    (validate_image_repository, "nginx"),
    (validate_image_repository, "acme/api"),
    (validate_image_repository, "ghcr.io/acme/api"),
    (validate_image_repository, "registry.acme.internal:5000/team/api__v2"),
    (validate_image_repository, "localhost:5000/a-b.c_d/e---f"),
    (validate_image_repository, "Registry.Example.com/acme/api"),
    (validate_image_tag, "1.10.0"),
    (validate_image_tag, "v2-rc1"),
    (validate_image_tag, "_latest"),
    (validate_digest, DIGEST),
    (validate_stage_name, "staging"),
    (validate_stage_name, "prod-eu-1"),
    (validate_pipeline_name, "churn-model"),
]


@pytest.mark.parametrize(
    ("validator", "value"), VALID, ids=[f"{v.__name__}:{value[:30]}" for v, value in VALID]
)
def test_valid_identifiers_are_returned_unchanged(validator: Validator, value: str) -> None:
    """A well-formed identifier passes and comes back as it was."""
    assert validator(value) == value


CYRILLIC_C = "\u0441"  # looks like Latin "c"

INVALID: list[tuple[str, Validator, object, str]] = [
    ("version-newline", validate_model_version, "7\n", "line break"),
    ("version-crlf-injection", validate_model_version, "7\r\nimage: evil", "line break"),
    ("version-flow-close", validate_model_version, "1]", "']'"),
    ("version-flow-mapping", validate_model_version, "{a: b}", "'{'"),
    ("version-mapping-syntax", validate_model_version, "x: y", "'x'"),
    ("version-comment", validate_model_version, "7 #", "whitespace"),
    ("version-zero", validate_model_version, "0", "positive"),
    ("version-leading-zero", validate_model_version, "007", "leading zero"),
    ("version-negative", validate_model_version, "-1", "'-'"),
    ("version-float", validate_model_version, "7.0", "'.'"),
    ("version-fullwidth-digit", validate_model_version, "\uff17", "FULLWIDTH DIGIT SEVEN"),
    ("version-11-digits", validate_model_version, "12345678901", "more than 10"),
    ("version-not-a-string", validate_model_version, 7, "not a string"),
    ("version-empty", validate_model_version, "", "empty"),
    ("name-cyrillic-look-alike", validate_model_name, CYRILLIC_C + "hurn", "CYRILLIC"),
    ("name-zero-width-space", validate_model_name, "churn\u200b", "ZERO WIDTH SPACE"),
    ("name-zero-width-joiner", validate_model_name, "ch\u200durn", "ZERO WIDTH JOINER"),
    ("name-rtl-override", validate_model_name, "churn\u202e7", "RIGHT-TO-LEFT OVERRIDE"),
    ("name-bom", validate_model_name, "\ufeffchurn", "ZERO WIDTH NO-BREAK SPACE"),
    ("name-traversal", validate_model_name, "../churn", "'/'"),
    ("name-double-dot", validate_model_name, "churn..v2", "'..'"),
    ("name-anchor", validate_model_name, "&churn", "'&'"),
    ("name-alias", validate_model_name, "*churn", "'*'"),
    ("name-tag", validate_model_name, "!!python/object", "'!'"),
    ("name-block-scalar", validate_model_name, "|", "'|'"),
    ("name-folded-scalar", validate_model_name, ">", "'>'"),
    ("name-single-quote", validate_model_name, "churn'", '"\'"'),
    ("name-double-quote", validate_model_name, 'churn"', "'\"'"),
    ("name-comma", validate_model_name, "a,b", "','"),
    ("name-leading-dash", validate_model_name, "-churn", "allowed shape"),
    ("name-too-long", validate_model_name, "a" * 129, "129 characters long"),
    ("name-very-long", validate_model_name, "a" * 100_000, "100000 characters long"),
    ("name-nul", validate_model_name, "churn\x00", "control character U+0000"),
    ("alias-reserved-latest", validate_model_alias, "latest", "reserved"),
    ("alias-reserved-version", validate_model_alias, "v3", "reserved"),
    ("run-id-uppercase", validate_run_id, "0123456789ABCDEF0123456789abcdef", "'A'"),
    ("run-id-short", validate_run_id, "abc", "allowed shape"),
    ("repository-uppercase-path", validate_image_repository, "ghcr.io/Acme/api", "capital"),
    ("repository-with-tag", validate_image_repository, "nginx@sha256", "'@'"),
    ("repository-double-slash", validate_image_repository, "acme//api", "allowed shape"),
    ("repository-trailing-dot", validate_image_repository, "acme/api.", "allowed shape"),
    ("repository-newline", validate_image_repository, "acme/api\nx", "line break"),
    ("repository-too-long", validate_image_repository, "a/" * 128 + "a", "more than 255"),
    ("tag-leading-dot", validate_image_tag, ".hidden", "allowed shape"),
    ("tag-leading-dash", validate_image_tag, "-rc1", "allowed shape"),
    ("tag-flow", validate_image_tag, "1.0]", "']'"),
    ("tag-colon-space", validate_image_tag, "x: y", "':'"),
    ("tag-129", validate_image_tag, "a" * 129, "more than 128"),
    ("tag-zero-width", validate_image_tag, "1.0\u200b", "ZERO WIDTH SPACE"),
    ("digest-uppercase", validate_digest, DIGEST.upper(), "'S'"),
    ("digest-short", validate_digest, "sha256:abc", "allowed shape"),
    ("digest-sha512", validate_digest, "sha512:" + "a" * 64, "allowed shape"),
    ("stage-uppercase", validate_stage_name, "Prod", "'P'"),
    ("stage-underscore", validate_stage_name, "prod_eu", "'_'"),
    ("stage-64", validate_stage_name, "a" * 64, "more than 63"),
    ("pipeline-leading-dash", validate_pipeline_name, "-churn", "allowed shape"),
]


@pytest.mark.parametrize(
    ("validator", "value", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_malformed_identifiers_are_refused_with_the_reason(
    validator: Validator, value: object, reason: str
) -> None:
    """Injection, traversal, look-alikes and overlong values raise InvalidIdentifier."""
    with pytest.raises(InvalidIdentifier) as caught:
        validator(value)
    assert reason in str(caught.value)
    assert "allowed:" in str(caught.value)


def test_error_quotes_the_value_so_hidden_characters_show() -> None:
    """The message escapes non-ASCII and control characters instead of printing them raw."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_model_name(CYRILLIC_C + "hurn\n")
    message = str(caught.value)
    assert "'\\u0441hurn\\n'" in message
    assert CYRILLIC_C not in message
    assert "\n" not in message


def test_error_truncates_long_values() -> None:
    """A huge value is cut in the message, which says how long it was."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_image_tag("x" * 10_000)
    message = str(caught.value)
    assert len(message) < 400
    assert "(10000 characters)" in message


def test_error_carries_kind_value_and_reason() -> None:
    """InvalidIdentifier is a ValueError with the kind, the value and the reason."""
    with pytest.raises(ValueError) as caught:
        validate_stage_name("Prod")
    error = caught.value
    assert isinstance(error, InvalidIdentifier)
    assert (error.kind, error.value) == (IdentifierKind.STAGE, "Prod")
    assert error.reason == "contains 'P', which is not allowed here"
    assert str(error).startswith("invalid stage name: 'Prod' contains 'P'")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("deploy/values.yaml", "deploy/values.yaml"),
        ("./deploy/values.yaml", "deploy/values.yaml"),
        ("deploy//prod/./kustomization.yaml", "deploy/prod/kustomization.yaml"),
        ("apps/churn@v2/values+prod=eu.yaml", "apps/churn@v2/values+prod=eu.yaml"),
        (".github/ferrybot.yaml", ".github/ferrybot.yaml"),
    ],
    ids=["plain", "dot-slash", "double-slash-and-dot", "odd-but-safe-characters", "dot-dir"],
)
def test_repo_paths_come_back_normalised(value: str, normalised: str) -> None:
    """Config file paths are returned in one normal form."""
    assert validate_repo_path(value) == normalised


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("../secrets.yaml", "'..' segment"),
        ("deploy/../../etc/passwd", "'..' segment"),
        ("deploy/..", "'..' segment"),
        ("/etc/passwd", "absolute"),
        ("deploy\\values.yaml", "backslash"),
        ("deploy/values.yaml\x00.txt", "control character U+0000"),
        ("deploy/values\n.yaml", "line break"),
        (".git/config", ".git directory"),
        ("a/.GIT/hooks/pre-commit", ".git directory"),
        ("deploy/", "ends with '/'"),
        (".", "repository root"),
        ("./", "ends with '/'"),
        ("C:/deploy/values.yaml", "':'"),
        ("deploy/my values.yaml", "whitespace"),
        ("deploy/valu\u0435s.yaml", "CYRILLIC"),
        ("a/" * 600 + "b", "more than 1024"),
        ("a" * 256 + "/b", "longer than 255"),
        ("", "empty"),
    ],
    ids=[
        "parent",
        "parent-inside",
        "parent-last",
        "absolute",
        "backslash",
        "nul",
        "newline",
        "git-dir",
        "git-dir-any-case",
        "directory",
        "root",
        "root-slash",
        "windows-drive",
        "space",
        "cyrillic",
        "too-long",
        "long-segment",
        "empty",
    ],
)
def test_unsafe_repo_paths_are_refused(value: str, reason: str) -> None:
    """Traversal, absolute, backslash, control and .git paths raise InvalidIdentifier."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_repo_path(value)
    assert reason in str(caught.value)


@pytest.mark.parametrize("kind", list(IdentifierKind), ids=[kind.name for kind in IdentifierKind])
def test_every_kind_refuses_a_newline(kind: IdentifierKind) -> None:
    """No kind of identifier can carry a line break into a YAML file."""
    with pytest.raises(InvalidIdentifier, match="line break"):
        validate(kind, "a\nb")
