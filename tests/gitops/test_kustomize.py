"""Kustomize `images:` edits: tags and digests move together, new entries look like the rest."""

from __future__ import annotations

import pytest

from bot.gitops.edits import EditError
from bot.gitops.identifiers import InvalidIdentifier
from bot.gitops.kustomize import set_kustomize_image
from bot.gitops.yamledit import get_path

from .manifests import diff_lines, read_back, read_manifest

OLD_DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
NEW_DIGEST = "sha256:" + "c0ffee" * 10 + "c0ff"

UPDATES = [
    (
        "tag-keeps-double-quotes-and-comment",
        "ghcr.io/acme/api",
        {"new_tag": "1.5.0"},
        [
            '-  newTag: "1.4.0"   # promoted from staging\n',
            '+  newTag: "1.5.0"   # promoted from staging\n',
        ],
    ),
    (
        "tag-keeps-single-quotes",
        "busybox",
        {"new_tag": "1.37"},
        ["-  newTag: '1.36'\n", "+  newTag: '1.37'\n"],
    ),
    (
        "tag-and-digest-move-together",
        "ghcr.io/acme/worker",
        {"new_tag": "2.4.0", "digest": NEW_DIGEST},
        [
            "-  newTag: 2.3.1\n",
            f"-  digest: {OLD_DIGEST}\n",
            "+  newTag: 2.4.0\n",
            f"+  digest: {NEW_DIGEST}\n",
        ],
    ),
    (
        "pinning-adds-digest-after-tag",
        "ghcr.io/acme/api",
        {"new_tag": "1.5.0", "digest": NEW_DIGEST},
        [
            '-  newTag: "1.4.0"   # promoted from staging\n',
            '+  newTag: "1.5.0"   # promoted from staging\n',
            f"+  digest: {NEW_DIGEST}\n",
        ],
    ),
    (
        "new-name",
        "ghcr.io/acme/worker",
        {"new_name": "registry.acme.internal:5000/acme/worker-v2"},
        [
            "-  newName: registry.acme.internal:5000/acme/worker\n",
            "+  newName: registry.acme.internal:5000/acme/worker-v2\n",
        ],
    ),
    (
        "new-entry-appended-in-file-style",
        "ghcr.io/acme/scheduler",
        {"new_tag": "0.9.0"},
        ["+- name: ghcr.io/acme/scheduler\n", "+  newTag: 0.9.0\n"],
    ),
    (
        "new-entry-version-like-tag-quoted",
        "nginx",
        {"new_tag": "1.27", "digest": NEW_DIGEST},
        ["+- name: nginx\n", '+  newTag: "1.27"\n', f"+  digest: {NEW_DIGEST}\n"],
    ),
]


@pytest.mark.parametrize(
    ("name", "fields", "expected_diff"),
    [case[1:] for case in UPDATES],
    ids=[case[0] for case in UPDATES],
)
def test_image_entries_change_only_their_fields(
    name: str, fields: dict[str, str], expected_diff: list[str]
) -> None:
    """Only the entry's lines change, and kustomize would read the new values."""
    before = read_manifest("kustomization.yaml")

    result = set_kustomize_image(before, name, **fields)

    assert diff_lines(before, result.text) == expected_diff
    keys = {"new_tag": "newTag", "digest": "digest", "new_name": "newName"}
    for field, value in fields.items():
        assert read_back(result.text, f"images[name={name}].{keys[field]}") == value
    assert {change.new for change in result.changes} >= set(fields.values())


def test_new_entries_follow_an_indented_list_style() -> None:
    """In a file that indents its dashes, an appended entry is indented the same way."""
    before = "images:\n  - name: api   # main\n    newTag: v1\n\n# tail comment\n"

    result = set_kustomize_image(before, "worker", new_tag="v2")

    assert result.text == (
        "images:\n  - name: api   # main\n    newTag: v1\n  - name: worker\n    newTag: v2\n"
        "\n# tail comment\n"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "resources:\n  - base\n",
            "resources:\n  - base\nimages:\n  - name: api\n    newTag: v2\n",
        ),
        ("resources:\n- base\n", "resources:\n- base\nimages:\n- name: api\n  newTag: v2\n"),
        ("resources: [base]", "resources: [base]\nimages:\n- name: api\n  newTag: v2"),
        ("images: []\n", "images: [{name: api, newTag: v2}]\n"),
        ("images:\nnamespace: prod\n", "images:\n- name: api\n  newTag: v2\nnamespace: prod\n"),
        ("images:\n- {name: api, newTag: v1}\n", "images:\n- {name: api, newTag: v2}\n"),
    ],
    ids=[
        "no-images-indented-style",
        "no-images-flush-style",
        "no-images-no-final-newline",
        "empty-flow-list",
        "empty-value",
        "flow-entry",
    ],
)
def test_images_list_is_created_in_the_file_style(before: str, after: str) -> None:
    """A missing or empty `images:` gets the entry, laid out like the file's other lists."""
    assert set_kustomize_image(before, "api", new_tag="v2").text == after


def test_pinning_a_flow_entry_adds_the_digest_inside_it() -> None:
    """A flow-style entry gets its new digest as one more pair in the braces."""
    before = "images:\n- {name: api, newTag: v1}\n"

    result = set_kustomize_image(before, "api", new_tag="v2", digest=NEW_DIGEST)

    assert result.text == f"images:\n- {{name: api, newTag: v2, digest: {NEW_DIGEST}}}\n"


def test_setting_the_current_tag_is_a_no_op() -> None:
    """Promoting the tag already deployed changes nothing."""
    before = read_manifest("kustomization.yaml")

    result = set_kustomize_image(before, "ghcr.io/acme/worker", new_tag="2.3.1", digest=OLD_DIGEST)

    assert result.text == before
    assert not result.changed


def test_the_current_tag_can_be_read_back() -> None:
    """get_path reads which tag a stage runs, for the model gate and the PR body."""
    text = read_manifest("kustomization.yaml")

    assert get_path(text, "images[name=ghcr.io/acme/worker].newTag") == "2.3.1"


@pytest.mark.parametrize(
    ("name", "fields", "fragments"),
    [
        ("ghcr.io/acme/worker", {"new_tag": "2.4.0"},
         ["images[name=ghcr.io/acme/worker]", "pins digest sha256:9f86",
          "give the new tag's digest"]),
        ("ghcr.io/acme/api", {"digest": NEW_DIGEST},
         ["has newTag '1.4.0'", "so that tag and digest agree"]),
        ("ghcr.io/acme/api", {}, ["nothing to set"]),
    ],
    ids=["tag-without-digest", "digest-without-tag", "nothing"],
)  # fmt: skip
def test_tag_and_digest_never_disagree(
    name: str, fields: dict[str, str], fragments: list[str]
) -> None:
    """Moving the tag of a digest-pinned entry alone (or the reverse) is refused."""
    with pytest.raises(EditError) as caught:
        set_kustomize_image(read_manifest("kustomization.yaml"), name, **fields)
    assert str(caught.value).startswith("kustomization.yaml: ")
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("before", "fragment"),
    [
        ("images:\n- name: api\n  newTag: a\n- name: api\n  newTag: b\n", "2 entries are named"),
        ("images: api:v1\n", "holds the scalar 'api:v1', not a list"),
        ("- images\n", "a kustomization is a mapping"),
        ("base: &i\n- name: api\n  newTag: a\nimages: *i\n", "alias of the anchor at base"),
    ],
    ids=["duplicate-entries", "scalar-images", "not-a-mapping", "aliased-list"],
)
def test_unusable_kustomizations_are_refused(before: str, fragment: str) -> None:
    """Shapes kustomize would reject or that ferrybot cannot edit safely raise EditError."""
    with pytest.raises(EditError, match=fragment):
        set_kustomize_image(before, "api", new_tag="b")


def test_an_anchored_images_list_is_edited_where_it_is_defined() -> None:
    """An `images: &i` list can be edited; its aliases read the new tag too."""
    before = "images: &i\n- name: api\n  newTag: a\nother: *i\n"

    result = set_kustomize_image(before, "api", new_tag="b")

    assert read_back(result.text, "other[0].newTag") == "b"


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"name": "api\nnewTag: evil", "new_tag": "v1"}, "image repository"),
        ({"name": "api", "new_tag": "1]"}, "image tag"),
        ({"name": "api", "new_tag": "{a: b}"}, "image tag"),
        ({"name": "api", "new_tag": "v1\u200b"}, "image tag"),
        ({"name": "api", "digest": "sha256:abc"}, "image digest"),
        ({"name": "api", "new_name": "../evil"}, "image repository"),
    ],
    ids=["name-newline", "tag-flow", "tag-mapping", "tag-zero-width", "short-digest", "new-name"],
)
def test_malformed_image_fields_are_refused(fields: dict[str, str], kind: str) -> None:
    """Every field is validated as an identifier before the file is touched."""
    with pytest.raises(InvalidIdentifier, match=kind):
        set_kustomize_image(read_manifest("kustomization.yaml"), **fields)
