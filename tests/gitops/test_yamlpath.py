"""The edit path syntax: keys, indexes, list items by field, odd keys in quotes."""

from __future__ import annotations

import pytest

from bot.gitops.edits import EditError
from bot.gitops.yamlpath import Index, Key, Match, parse_path


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("image.tag", (Key("image"), Key("tag"))),
        ("spec.predictors[0].graph.modelUri",
         (Key("spec"), Key("predictors"), Index(0), Key("graph"), Key("modelUri"))),
        ("spec.containers[name=api].image",
         (Key("spec"), Key("containers"), Match("name", "api"), Key("image"))),
        ("images[name=ghcr.io/acme/api:5000].newTag",
         (Key("images"), Match("name", "ghcr.io/acme/api:5000"), Key("newTag"))),
        ('metadata.annotations["ferrybot.io/version"]',
         (Key("metadata"), Key("annotations"), Key("ferrybot.io/version"))),
        ('env[name="MY VAR"].value', (Key("env"), Match("name", "MY VAR"), Key("value"))),
        ("[1].name", (Index(1), Key("name"))),
    ],
    ids=["dotted", "index", "match", "match-registry", "quoted-key", "quoted-match", "root-list"],
)  # fmt: skip
def test_paths_parse_and_print_back(text: str, segments: tuple[object, ...]) -> None:
    """A path parses into segments and prints back as written."""
    path = parse_path(text)
    assert path.segments == segments
    assert str(path) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".image",
        "image.",
        "image..tag",
        "image[",
        "image[x]",
        "image[-1]",
        "image tag",
        "image.tag\n",
        "containers[name=a]b",
        'a["x\\"y"]',
        "a[name=x y]",
        "im\u0430ge.tag",
        "a." * 300,
    ],
    ids=[
        "empty",
        "leading-dot",
        "trailing-dot",
        "double-dot",
        "open-bracket",
        "non-numeric-index",
        "negative-index",
        "space",
        "newline",
        "no-dot-after-bracket",
        "escaped-quote",
        "unquoted-space",
        "look-alike",
        "too-long",
    ],
)
def test_bad_paths_are_refused_at_config_time(text: str) -> None:
    """An unreadable path raises EditError naming the path and the syntax."""
    with pytest.raises(EditError, match=r"YAML path|cannot read the path"):
        parse_path(text, source="ferrybot.yaml")
