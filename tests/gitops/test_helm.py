"""Helm values.yaml edits: existing keys by default, missing ones only when config allows."""

from __future__ import annotations

import pytest

from bot.gitops.edits import Change, EditError
from bot.gitops.helm import set_helm_value

from .manifests import diff_lines, read_back, read_manifest


@pytest.mark.parametrize(
    ("key", "value", "expected_diff", "read"),
    [
        ("image.tag", "1.11", ['-  tag: "1.10"\n', '+  tag: "1.11"\n'], "1.11"),
        ("model.version", "8",
         ["-  version: 7          # MLflow registered-model version\n",
          "+  version: 8          # MLflow registered-model version\n"], 8),
        ("model.uri", "models:/churn/8",
         ["-  uri: models:/churn/7\n", "+  uri: models:/churn/8\n"], "models:/churn/8"),
        ("defaults.timeout", "60s", ["-  timeout: 30s\n", "+  timeout: 60s\n"], "60s"),
    ],
    ids=["quoted-tag", "int-version", "plain-uri", "anchored-mapping"],
)  # fmt: skip
def test_existing_values_change_in_place(
    key: str, value: str, expected_diff: list[str], read: object
) -> None:
    """One line changes and the chart would read the new value with the old type."""
    before = read_manifest("values.yaml")

    result = set_helm_value(before, key, value)

    assert diff_lines(before, result.text) == expected_diff
    assert read_back(result.text, key) == read


def test_a_value_in_a_merged_mapping_changes_where_it_is_merged_too() -> None:
    """Editing a `&defaults` mapping also changes what `<<: *defaults` brings in."""
    result = set_helm_value(read_manifest("values.yaml"), "defaults.timeout", "60s")

    assert read_back(result.text, "canary.timeout") == "60s"


def test_a_missing_key_is_refused_by_default() -> None:
    """A typo in the config does not silently add a dead key; the error suggests the fix."""
    with pytest.raises(EditError) as caught:
        set_helm_value(read_manifest("values.yaml"), "image.tags", "1.11")

    assert str(caught.value) == (
        "values.yaml: image.tags: no key 'tags' in image, which has 'repository', 'pullPolicy',"
        " 'tag' (did you mean 'tag'?); check the key in the pipeline config, or let the stage"
        " create missing keys"
    )


@pytest.mark.parametrize(
    ("path", "expected_diff"),
    [
        ("image.digest", ["+  digest: sha256:abc\n"]),
        ("serving.model.version", ["+serving:\n", "+  model:\n", "+    version: sha256:abc\n"]),
        ('podAnnotations["ferrybot.io/version"]',
         ["-podAnnotations: {}\n", "+podAnnotations: {ferrybot.io/version: sha256:abc}\n"]),
        ("nodeSelector.disk", ["+  disk: sha256:abc\n"]),
    ],
    ids=["under-existing-mapping", "new-nested-mappings", "into-empty-flow-mapping",
         "into-empty-value"],
)  # fmt: skip
def test_missing_keys_are_created_when_allowed(path: str, expected_diff: list[str]) -> None:
    """With create_missing, the intermediate mappings are added in the file's indentation."""
    before = read_manifest("values.yaml")

    result = set_helm_value(before, path, "sha256:abc", create_missing=True)

    assert diff_lines(before, result.text) == expected_diff
    assert result.changes == (Change(path, None, "sha256:abc"),)
    assert read_back(result.text, path) == "sha256:abc"


def test_an_empty_value_in_a_flow_mapping_gets_a_flow_mapping() -> None:
    """Inside braces, a created mapping is written in flow style too."""
    before = "image: {repository: api, extra: , pullPolicy: Always}\n"

    result = set_helm_value(before, "image.extra.tag", "v1", create_missing=True)

    assert result.text == "image: {repository: api, extra: {tag: v1} , pullPolicy: Always}\n"


def test_created_keys_follow_a_four_space_file() -> None:
    """A file indented by four spaces gets new mappings indented by four."""
    before = "image:\n    repository: api\n    tag: v1\n"

    result = set_helm_value(before, "model.source.uri", "models:/churn/1", create_missing=True)

    assert result.text == before + "model:\n    source:\n        uri: models:/churn/1\n"


@pytest.mark.parametrize(
    ("key", "create_missing", "fragment"),
    [
        ("canary.timeout", False, "comes from defaults.timeout through a merge key"),
        ("tolerations[0].key", True, "index 0 is past the end"),
        ("image.repository.name", True, "image.repository is the scalar"),
        ("image tag", False, "cannot read the path"),
        ("model.version\n", False, "cannot read the path"),
    ],
    ids=["through-merge", "list-item", "through-scalar", "bad-key", "newline-in-key"],
)
def test_unworkable_keys_are_refused(key: str, create_missing: bool, fragment: str) -> None:
    """Keys that cannot be set raise EditError saying why."""
    with pytest.raises(EditError, match=fragment):
        set_helm_value(read_manifest("values.yaml"), key, "1", create_missing=create_missing)


def test_list_items_are_never_created() -> None:
    """create_missing adds mappings only, never list entries."""
    with pytest.raises(EditError, match="only mapping keys can be created"):
        set_helm_value("image: {}\n", "image.ports[0]", "80", create_missing=True)
