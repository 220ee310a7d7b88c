"""Value templates: checked at config time, rendered from valid identifiers, read back."""

from __future__ import annotations

import pytest

from bot.gitops.identifiers import InvalidIdentifier
from bot.gitops.templates import (
    TemplateError,
    TemplateValues,
    extract,
    render,
    template_placeholders,
    validate_template,
)

DIGEST = "sha256:" + "ab" * 32
RUN_ID = "0123456789abcdef0123456789abcdef"

RENDERED = [
    ("mlflow-uri", "models:/{name}/{version}", TemplateValues(name="churn", version="7"),
     "models:/churn/7"),
    ("mlflow-alias", "models:/{name}@{alias}", TemplateValues(name="churn", alias="champion"),
     "models:/churn@champion"),
    ("s3", "s3://ml-models/{name}/{version}", TemplateValues(name="churn", version="12"),
     "s3://ml-models/churn/12"),
    ("run-artifacts", "runs:/{run_id}/model", TemplateValues(run_id=RUN_ID),
     f"runs:/{RUN_ID}/model"),
    ("image-tag", "{repository}:{tag}", TemplateValues(repository="ghcr.io/acme/api", tag="1.10"),
     "ghcr.io/acme/api:1.10"),
    ("image-digest", "{repository}@{digest}",
     TemplateValues(repository="registry:5000/acme/api", digest=DIGEST),
     f"registry:5000/acme/api@{DIGEST}"),
    ("stage-path", "gs://models/{pipeline}/{stage}/{name}/{version}",
     TemplateValues(pipeline="churn", stage="prod", name="churn", version="3"),
     "gs://models/churn/prod/churn/3"),
    ("repeated", "s3://b/{name}/{version}/{name}.pkl", TemplateValues(name="m", version="1"),
     "s3://b/m/1/m.pkl"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("template", "values", "rendered"),
    [case[1:] for case in RENDERED],
    ids=[case[0] for case in RENDERED],
)
def test_render_fills_placeholders(template: str, values: TemplateValues, rendered: str) -> None:
    """Rendering substitutes each placeholder with its validated identifier."""
    assert render(template, values) == rendered


@pytest.mark.parametrize(
    ("template", "values", "rendered"),
    [case[1:] for case in RENDERED],
    ids=[case[0] for case in RENDERED],
)
def test_extract_reads_back_what_render_wrote(
    template: str, values: TemplateValues, rendered: str
) -> None:
    """extract() recovers exactly the identifiers a rendered value was made from."""
    found = extract(template, rendered)
    assert found is not None
    assert TemplateValues(**found) == TemplateValues(
        **{name: values.get(name) for name in template_placeholders(template)}
    )


def test_render_refuses_a_missing_value() -> None:
    """A placeholder without a value for this promotion is an error, not an empty string."""
    with pytest.raises(TemplateError, match=r"needs \{digest\}, but no image digest is known"):
        render("{repository}@{digest}", TemplateValues(repository="acme/api"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "7\nkind: Secret"),
        ("name", "../churn"),
        ("tag", "1.0]"),
        ("repository", "acme/api:1.0"),
        ("digest", "sha256:short"),
        ("stage", "Prod"),
        ("name", "chur\u043d"),
    ],
    ids=["version-newline", "name-traversal", "tag-flow", "repo-with-tag", "digest", "stage",
         "look-alike"],
)  # fmt: skip
def test_template_values_only_hold_valid_identifiers(field: str, value: str) -> None:
    """Rendering input is validated when built, so render never sees an unchecked value."""
    with pytest.raises(InvalidIdentifier):
        TemplateValues(**{field: value})


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("models:/{model}/{version}", "unknown placeholder {model}"),
        ("models:/{name!r}/{version}", "placeholders are plain names"),
        ("models:/{name:>10}/{version}", "placeholders are plain names"),
        ("models:/{name.__class__}", "placeholders are plain names"),
        ("models:/{name[0]}", "placeholders are plain names"),
        ("models:/{}", "placeholders are plain names"),
        ("models:/{0}", "placeholders are plain names"),
        ("models:/{ name }", "placeholders are plain names"),
        ("models:/{name", "unmatched '{'"),
        ("models:/name}", "unmatched '}'"),
        ("models:/{{name}}", "unmatched '{'"),
        ("{name}{version}", "next to each other"),
        ("models:/churn/7", "no placeholder"),
        ("models:/{name} /{version}", "' '"),
        ("models:/{name}\n/{version}", "'\\n'"),
        ("models:/\u0441hurn/{version}", "'\\u0441'"),
        ("", "1 to 512 characters"),
        ("{name}/" + "x" * 600, "1 to 512 characters"),
    ],
    ids=[
        "unknown",
        "conversion",
        "format-spec",
        "attribute",
        "index",
        "positional-empty",
        "positional-number",
        "spaces-inside",
        "unclosed",
        "unopened",
        "double-braces",
        "adjacent",
        "constant",
        "space",
        "newline",
        "look-alike",
        "empty",
        "too-long",
    ],
)
def test_validate_template_refuses_unusable_templates(template: str, message: str) -> None:
    """Config validation names what is wrong with a template."""
    with pytest.raises(TemplateError) as caught:
        validate_template(template)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("template", "rendered", "expected"),
    [
        ("models:/{name}/{version}", "models:/churn/7", {"name": "churn", "version": "7"}),
        ("{repository}:{tag}", "registry:5000/acme/api:v1.10",
         {"repository": "registry:5000/acme/api", "tag": "v1.10"}),
        ("{name}-{version}", "churn-model-12", {"name": "churn-model", "version": "12"}),
        ("models:/{name}/{version}", "models:/churn/latest", None),
        ("models:/{name}/{version}", "models:/churn/07", None),
        ("models:/{name}/{version}", "models:/churn/7\n", None),
        ("models:/{name}/{version}", "models:/../7", None),
        ("models:/{name}/{version}", "models:/a..b/7", None),
        ("models:/{name}/{version}", "models:/churn/7/extra", None),
        ("models:/{name}/{version}", "s3://churn/7", None),
        ("models:/{name}/{version}", "models:/churn/", None),
        ("s3://b/{name}/{version}/{name}.pkl", "s3://b/m/1/n.pkl", None),
        ("{repository}:{tag}", "ghcr.io/Acme/api:v1", None),
        ("models:/{name}/{version}", "models:/churn/" + "7" * 5000, None),
    ],
    ids=[
        "mlflow-uri",
        "registry-port",
        "dash-in-name",
        "not-a-version",
        "leading-zero",
        "trailing-newline",
        "traversal",
        "double-dot",
        "extra-segment",
        "other-scheme",
        "empty-piece",
        "repeat-disagrees",
        "uppercase-repository",
        "huge",
    ],
)  # fmt: skip
def test_extract_reads_the_deployed_identifiers(
    template: str, rendered: str, expected: dict[str, str] | None
) -> None:
    """extract() returns the identifiers, or None when the text does not fit the template."""
    assert extract(template, rendered) == expected


def test_extract_refuses_to_guess_between_two_readings() -> None:
    """A value that splits two valid ways raises instead of picking one."""
    with pytest.raises(TemplateError, match="reads two ways"):
        extract("{name}.{tag}", "a.b.c")


def test_template_placeholders_lists_the_names_used() -> None:
    """Config can check that a pipeline provides every placeholder a template uses."""
    assert template_placeholders("s3://b/{name}/{version}/{name}") == {"name", "version"}
