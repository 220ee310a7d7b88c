"""Round-trip edits: only the value changes, its type holds, and refusals say why."""

from __future__ import annotations

import pytest

from bot.gitops import yamledit
from bot.gitops.edits import Change, EditError
from bot.gitops.yamledit import DocumentSelector, get_path, set_path

from .manifests import diff_lines, read_back, read_manifest

CONFIGMAP = DocumentSelector(kind="ConfigMap")
DEPLOYMENT = DocumentSelector(kind="Deployment", name="churn-api")

FIXTURE_EDITS = [
    (
        "kserve-storage-uri",
        "kserve-inferenceservice.yaml",
        "spec.predictor.model.storageUri",
        None,
        "models:/churn/8",
        [
            '-            storageUri: "models:/churn/7"\n',
            '+            storageUri: "models:/churn/8"\n',
        ],
    ),
    (
        "kserve-flow-mapping-in-odd-indent",
        "kserve-inferenceservice.yaml",
        "spec.predictor.model.resources.requests.cpu",
        None,
        "2",
        [
            '-               requests: {cpu: "1", memory: 2Gi}\n',
            '+               requests: {cpu: "2", memory: 2Gi}\n',
        ],
    ),
    (
        "seldon-plain-model-uri-keeps-comment",
        "seldon-deployment.yaml",
        "spec.predictors[0].graph.modelUri",
        None,
        "s3://ml-models/churn/9",
        [
            "-      modelUri: s3://ml-models/churn/7   # plain, unquoted\n",
            "+      modelUri: s3://ml-models/churn/9   # plain, unquoted\n",
        ],
    ),
    (
        "seldon-single-quoted-by-predictor-name",
        "seldon-deployment.yaml",
        "spec.predictors[name=canary].graph.modelUri",
        None,
        "s3://ml-models/churn/9",
        [
            "-      modelUri: 's3://ml-models/churn/8'\n",
            "+      modelUri: 's3://ml-models/churn/9'\n",
        ],
    ),
    (
        "deployment-container-by-name",
        "deployment.yaml",
        "spec.template.spec.containers[name=api].image",
        None,
        "ghcr.io/acme/api:1.5.0",
        [
            "-          image: ghcr.io/acme/api:1.4.0\n",
            "+          image: ghcr.io/acme/api:1.5.0\n",
        ],
    ),
    (
        "deployment-double-quoted-sidecar",
        "deployment.yaml",
        "spec.template.spec.containers[name=envoy].image",
        None,
        "envoyproxy/envoy:v1.30.0",
        [
            '-          image: "envoyproxy/envoy:v1.29.1"\n',
            '+          image: "envoyproxy/envoy:v1.30.0"\n',
        ],
    ),
    (
        "deployment-env-value-stays-string",
        "deployment.yaml",
        "spec.template.spec.containers[name=api].env[name=FEATURE_FLAG].value",
        None,
        "no",
        ['-              value: "yes"\n', '+              value: "no"\n'],
    ),
    (
        "bundle-configmap-version",
        "app-bundle.yaml",
        "data.MODEL_VERSION",
        CONFIGMAP,
        "8",
        ['-  MODEL_VERSION: "7"\n', '+  MODEL_VERSION: "8"\n'],
    ),
    (
        "bundle-deployment-image",
        "app-bundle.yaml",
        "spec.template.spec.containers[name=api].image",
        DEPLOYMENT,
        "ghcr.io/acme/churn-api:1.11",
        [
            "-        image: ghcr.io/acme/churn-api:1.10   # tag\n",
            "+        image: ghcr.io/acme/churn-api:1.11   # tag\n",
        ],
    ),
    (
        "values-int-version-stays-int",
        "values.yaml",
        "model.version",
        None,
        "8",
        [
            "-  version: 7          # MLflow registered-model version\n",
            "+  version: 8          # MLflow registered-model version\n",
        ],
    ),
]


def _document(selector: DocumentSelector | None) -> int:
    return {None: 0, CONFIGMAP: 2, DEPLOYMENT: 0}[selector]


@pytest.mark.parametrize(
    ("fixture", "path", "selector", "value", "expected_diff"),
    [case[1:] for case in FIXTURE_EDITS],
    ids=[case[0] for case in FIXTURE_EDITS],
)
def test_set_path_changes_only_the_value(
    fixture: str,
    path: str,
    selector: DocumentSelector | None,
    value: str,
    expected_diff: list[str],
) -> None:
    """Exactly one line changes, to the expected text, and a YAML reader sees the new value."""
    before = read_manifest(fixture)
    old = get_path(before, path, document_selector=selector)

    result = set_path(before, path, value, document_selector=selector, source=fixture)

    assert diff_lines(before, result.text) == expected_diff
    assert result.changes == (Change(path, old, value),)
    assert result.changed
    assert get_path(result.text, path, document_selector=selector) == value
    read = read_back(result.text, path, document=_document(selector))
    assert str(read) == value
    assert type(read) is type(read_back(before, path, document=_document(selector)))


@pytest.mark.parametrize(
    ("fixture", "path", "selector"),
    [(case[1], case[2], case[3]) for case in FIXTURE_EDITS],
    ids=[case[0] for case in FIXTURE_EDITS],
)
def test_setting_the_current_value_is_a_no_op(
    fixture: str, path: str, selector: DocumentSelector | None
) -> None:
    """Writing the value already there returns the same text and changed=False."""
    before = read_manifest(fixture)
    current = get_path(before, path, document_selector=selector)

    result = set_path(before, path, current, document_selector=selector)

    assert result.text == before
    assert result.changes == ()
    assert not result.changed


TYPED = [
    ("quoted-version-stays-string", 'v: "7"', "8", 'v: "8"', "8"),
    ("single-quoted-stays-single", "v: '7'", "8", "v: '8'", "8"),
    ("plain-int-stays-int", "v: 7", "8", "v: 8", 8),
    ("plain-int-to-text-becomes-string", "v: 7", "8a", "v: 8a", "8a"),
    ("plain-int-to-leading-zero-is-string", "v: 7", "08", 'v: "08"', "08"),
    ("tag-1.10-is-not-float", "v: v1", "1.10", 'v: "1.10"', "1.10"),
    ("float-field-becomes-exact-string", "v: 1.9", "1.10", 'v: "1.10"', "1.10"),
    ("version-text-where-string-was", "v: latest", "7", 'v: "7"', "7"),
    ("yaml11-on", "v: x", "on", 'v: "on"', "on"),
    ("yaml11-yes", "v: x", "yes", 'v: "yes"', "yes"),
    ("yaml11-n", "v: x", "n", 'v: "n"', "n"),
    ("yaml11-off", "v: x", "Off", 'v: "Off"', "Off"),
    ("bool-true", "v: x", "true", 'v: "true"', "true"),
    ("null-word", "v: x", "null", 'v: "null"', "null"),
    ("null-tilde", "v: x", "~", 'v: "~"', "~"),
    ("empty-string", "v: x", "", 'v: ""', ""),
    ("hex", "v: x", "0x1F", 'v: "0x1F"', "0x1F"),
    ("octal", "v: x", "0o17", 'v: "0o17"', "0o17"),
    ("exponent", "v: x", "1e3", 'v: "1e3"', "1e3"),
    ("infinity", "v: x", ".inf", 'v: ".inf"', ".inf"),
    ("underscore-int", "v: x", "1_000", 'v: "1_000"', "1_000"),
    ("sexagesimal", "v: x", "1:20", 'v: "1:20"', "1:20"),
    ("date", "v: x", "2024-05-01", 'v: "2024-05-01"', "2024-05-01"),
    ("merge-key-word", "v: x", "<<", 'v: "<<"', "<<"),
    ("flow-mapping", "v: x", "{a: b}", 'v: "{a: b}"', "{a: b}"),
    ("flow-sequence-close", "v: x", "1]", 'v: "1]"', "1]"),
    ("mapping-syntax", "v: x", "x: y", 'v: "x: y"', "x: y"),
    ("comment", "v: x", "7 # evil", 'v: "7 # evil"', "7 # evil"),
    ("anchor", "v: x", "&a", 'v: "&a"', "&a"),
    ("alias", "v: x", "*a", 'v: "*a"', "*a"),
    ("tag", "v: x", "!!python/object", 'v: "!!python/object"', "!!python/object"),
    ("block-indicator", "v: x", "|", 'v: "|"', "|"),
    ("sequence-entry", "v: x", "- x", 'v: "- x"', "- x"),
    ("trailing-colon", "v: x", "a:", 'v: "a:"', "a:"),
    ("quote-in-double", 'v: "x"', 'say "hi" \\o/', 'v: "say \\"hi\\" \\\\o/"', 'say "hi" \\o/'),
    ("quote-in-single", "v: 'x'", "it's", "v: 'it''s'", "it's"),
    ("file-prefers-single-quotes", "a: 'x'\nb: 'y'\nv: x", "on", "v: 'on'", "on"),
    ("uri-stays-plain", "v: x", "models:/churn/8", "v: models:/churn/8", "models:/churn/8"),
    ("explicit-tag-kept", "v: !!str 7", "8", "v: !!str 8", "8"),
    ("empty-value-filled", "v:", "8", 'v: "8"', "8"),
]


@pytest.mark.parametrize(
    ("document", "value", "expected_line", "read"),
    [case[1:] for case in TYPED],
    ids=[case[0] for case in TYPED],
)
def test_values_keep_their_type(
    document: str, value: str, expected_line: str, read: object
) -> None:
    """A string stays a string for YAML 1.1 and 1.2 readers; an integer field stays an integer."""
    before = document + "\nafter: 1\n"

    result = set_path(before, "v", value)

    assert diff_lines(before, result.text)[-1] == "+" + expected_line + "\n"
    assert read_back(result.text, "v") == read
    assert read_back(result.text, "v", yaml_1_1=True) == read


def test_aliases_follow_their_anchor_and_are_reported() -> None:
    """Editing an anchored scalar changes every alias of it, and each place is reported."""
    before = "base: &tag 1.4.0\napi:\n  image: *tag\nworker:\n  image: *tag\n"

    result = set_path(before, "base", "1.5.0")

    assert diff_lines(before, result.text) == ["-base: &tag 1.4.0\n", "+base: &tag 1.5.0\n"]
    assert [change.path for change in result.changes] == ["base", "api.image", "worker.image"]
    assert read_back(result.text, "worker.image") == "1.5.0"


@pytest.mark.parametrize(
    ("before", "path", "value", "after"),
    [
        ("%YAML 1.2\n---\nv: 7 # c\n...\n", "v", "8", "%YAML 1.2\n---\nv: 8 # c\n...\n"),
        ("v: 7", "v", "8", "v: 8"),
        ("a: 1\r\nv: 7\r\nb: 2\r\n", "v", "8", "a: 1\r\nv: 8\r\nb: 2\r\n"),
        ("\ufeffv: 7\n", "v", "8", "\ufeffv: 8\n"),
        ("v:    7     # aligned\nw: 1\n", "v", "8", "v:    8     # aligned\nw: 1\n"),
        ("v: {a: 1,b: [x,y]}\n", "v.b[1]", "z", "v: {a: 1,b: [x,z]}\n"),
        ("v: long\n  folded text\nw: 1\n", "v", "short", "v: short\nw: 1\n"),
        ("m:\n    v: 7\n\n\n    w: 'x'\n", "m.v", "8", "m:\n    v: 8\n\n\n    w: 'x'\n"),
        ("v: |\n  text\nw: 7\n", "w", "8", "v: |\n  text\nw: 8\n"),
        ("# head\n\n---\n# doc\nv: 7\n", "v", "8", "# head\n\n---\n# doc\nv: 8\n"),
    ],
    ids=[
        "directive-and-markers",
        "no-final-newline",
        "crlf",
        "byte-order-mark",
        "aligned-values",
        "compact-flow",
        "multi-line-plain",
        "blank-lines",
        "after-block-scalar",
        "comments-before-marker",
    ],
)
def test_everything_but_the_value_is_kept_byte_for_byte(
    before: str, path: str, value: str, after: str
) -> None:
    """Directives, markers, line endings, alignment, flow style and blank lines survive."""
    assert set_path(before, path, value).text == after


def test_crlf_manifest_keeps_its_line_endings() -> None:
    """A Windows-edited manifest changes one line and keeps CRLF everywhere."""
    before = read_manifest("deployment.yaml").replace("\n", "\r\n")

    result = set_path(before, "spec.template.spec.containers[name=api].image", "acme/api:2")

    assert diff_lines(before, result.text) == [
        "-          image: ghcr.io/acme/api:1.4.0\r\n",
        "+          image: acme/api:2\r\n",
    ]


def test_a_missing_final_newline_stays_missing() -> None:
    """Editing near the end of a file without a final newline does not add one."""
    before = read_manifest("deployment.yaml")
    assert not before.endswith("\n")

    result = set_path(before, "spec.template.spec.initContainers[0].image", "ghcr.io/acme/api:2")

    assert result.text.endswith('command: [ "./migrate", "up" ]')
    assert len(diff_lines(before, result.text)) == 2


@pytest.mark.parametrize(
    ("fixture", "path", "selector", "expected"),
    [
        ("kserve-inferenceservice.yaml", "spec.predictor.model.storageUri", None,
         "models:/churn/7"),
        ("values.yaml", "image.tag", None, "1.10"),
        ("values.yaml", "model.version", None, "7"),
        ("values.yaml", "canary.timeout", None, "30s"),
        ("deployment.yaml", "spec.selector.matchLabels.app", None, "api"),
        ("kustomization.yaml", "images[name=busybox].newTag", None, "1.36"),
        ("app-bundle.yaml", "spec.ports[0].targetPort", DocumentSelector(kind="Service"), "8080"),
    ],
    ids=["kserve", "quoted-tag", "int-version", "through-merge", "through-alias",
         "kustomize-entry", "multi-doc"],
)  # fmt: skip
def test_get_path_reads_the_value_as_written(
    fixture: str, path: str, selector: DocumentSelector | None, expected: str
) -> None:
    """get_path returns the scalar's text, unquoted, reading through aliases and merges."""
    assert get_path(read_manifest(fixture), path, document_selector=selector) == expected


ERRORS = [
    ("missing-key-with-suggestion", "values.yaml", "image.tagg", None, "1",
     ["values.yaml: image.tagg:", "no key 'tagg' in image", "(did you mean 'tag'?)"]),
    ("index-past-end", "seldon-deployment.yaml", "spec.predictors[5].graph.modelUri", None, "x",
     ["spec.predictors[5]", "index 5 is past the end", "has 2 items"]),
    ("no-matching-item", "deployment.yaml", "spec.template.spec.containers[name=web].image",
     None, "x", ["no item of spec.template.spec.containers has name='web'", "'api', 'envoy'"]),
    ("not-a-scalar", "kserve-inferenceservice.yaml", "spec.predictor.model", None, "x",
     ["spec.predictor.model: holds a mapping, not a single value"]),
    ("through-a-scalar", "kserve-inferenceservice.yaml", "metadata.name.first", None, "x",
     ["metadata.name is the scalar 'churn-predictor', not a mapping"]),
    ("index-into-mapping", "values.yaml", "image[0]", None, "x",
     ["image is a mapping, not a list"]),
    ("through-alias", "deployment.yaml", "spec.template.metadata.labels.app", None, "web",
     ["alias of the anchor at metadata.labels.app", "edit it there"]),
    ("through-merge", "values.yaml", "canary.timeout", None, "60s",
     ["comes from defaults.timeout through a merge key (<<)"]),
    ("no-selector-for-bundle", "app-bundle.yaml", "data.LOG_LEVEL", None, "debug",
     ["holds 3 documents", "#1 Deployment/churn-api", "#3 ConfigMap/churn-api-config",
      "give a document selector"]),
    ("selector-matches-two", "app-bundle.yaml", "metadata.name", DocumentSelector(name="churn-api"),
     "x", ["2 documents match the selector metadata.name=churn-api"]),
    ("selector-matches-none", "app-bundle.yaml", "data.LOG_LEVEL", DocumentSelector(kind="Secret"),
     "x", ["no document matches the selector kind=Secret"]),
    ("value-newline", "values.yaml", "image.tag", None, "1.11\nevil: true",
     ["U+000A", "line breaks, control and invisible characters are never written"]),
    ("value-zero-width", "values.yaml", "image.tag", None, "1.11\u200b",
     ["U+200B (ZERO WIDTH SPACE)"]),
    ("value-rtl-override", "values.yaml", "model.uri", None, "models:/\u202echurn/7",
     ["U+202E (RIGHT-TO-LEFT OVERRIDE)"]),
    ("value-too-long", "values.yaml", "image.tag", None, "x" * 5000,
     ["5000 characters long, more than 4096"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "path", "selector", "value", "fragments"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_refusals_say_what_was_found(
    fixture: str,
    path: str,
    selector: DocumentSelector | None,
    value: str,
    fragments: list[str],
) -> None:
    """A refused edit raises EditError naming the file, the path and what is there."""
    with pytest.raises(EditError) as caught:
        set_path(read_manifest(fixture), path, value, document_selector=selector, source=fixture)
    message = str(caught.value)
    assert message.startswith(fixture + ":")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("text", "path", "fragments"),
    [
        ("image:\n  tag: a\n  tag: b\n", "image.tag", ["duplicate key 'tag' on lines 2 and 3"]),
        ("v: {a: 1, a: 2}\n", "v.a", ["duplicate key 'a' on lines 1 and 1"]),
        ("a: 1\na: 2\n", "a", ["document 1: duplicate key 'a'"]),
        ("v: [1\nw: 2\n", "v", ["not valid YAML", "line 2"]),
        ("v: |\n  7\n", "v", ["block scalar (|)", "single-line values only"]),
        ("v:\n- \n- 2\n", "v[0]", ["empty list item"]),
        ("v: &a [*a]\n", "v", ["recursive alias"]),
        ("", "v", ["holds no YAML document"]),
    ],
    ids=[
        "duplicate-key",
        "duplicate-in-flow",
        "duplicate-at-root",
        "invalid-yaml",
        "block-scalar",
        "empty-item",
        "recursive-alias",
        "empty-file",
    ],
)
def test_unworkable_files_are_refused(text: str, path: str, fragments: list[str]) -> None:
    """Duplicate keys, broken YAML and unsupported shapes raise EditError, changing nothing."""
    with pytest.raises(EditError) as caught:
        set_path(text, path, "8", source="deploy/values.yaml")
    for fragment in ["deploy/values.yaml", *fragments]:
        assert fragment in str(caught.value)


def test_a_non_string_value_is_refused() -> None:
    """Values are strings: an int from a JSON payload must be validated and converted first."""
    with pytest.raises(EditError, match="not a int"):
        set_path("v: 7\n", "v", 8)  # type: ignore[arg-type]


def test_an_edit_that_would_change_meaning_is_never_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The re-parse check refuses a splice whose result reads differently than intended."""
    # Simulate a rendering bug that lets the value inject a key of its own.
    injected = ("7\nextra: 1", "tag:yaml.org,2002:int")
    monkeypatch.setattr(yamledit, "render_replacement", lambda *args, **kwargs: injected)

    with pytest.raises(EditError, match="would change more than the intended values"):
        set_path("v: 1\n", "v", "7")
