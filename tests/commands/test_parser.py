"""Behaviour of the comment → commands parser, its validators and its reply escaper."""

from __future__ import annotations

import html
import re
import string

import pytest

from bot.commands.parser import (
    CUT_OFF,
    HIDDEN_TEXT,
    LINE_TOO_LONG,
    MAX_COMMANDS,
    MAX_COMMENT_CHARS,
    MAX_LINE_CHARS,
    MAX_REPLY_CHARS,
    TOO_MANY_COMMANDS,
    Command,
    ParseResult,
    escape_for_reply,
    is_identifier,
    is_label,
    is_login,
    normalise_login,
    parse_commands,
)

ZERO_WIDTH = {
    "U+200B": "\u200b",
    "U+200C": "\u200c",
    "U+200D": "\u200d",
    "U+2060": "\u2060",
    "U+FEFF": "\ufeff",
}


def read(result: ParseResult) -> list[tuple[str, tuple[str, ...]]]:
    """Return the commands of a parse as (name, args) pairs."""
    return [(command.name, command.args) for command in result.commands]


READ_CASES = [
    ("/hold", [("hold", ())]),
    ("/hold for further review", [("hold", ("for", "further", "review"))]),
    (
        "/hold   cancel  reviewed, and\twhitespace",
        [("hold", ("cancel", "reviewed,", "and", "whitespace"))],
    ),
    ("/hold   ", [("hold", ())]),
    ("/hold\n/lgtm\n/approve no-issue", [("hold", ()), ("lgtm", ()), ("approve", ("no-issue",))]),
    ("/hold /lgtm", [("hold", ("/lgtm",))]),
    ("/HOLD Cancel", [("hold", ("Cancel",))]),
    ("/Remove-Hold", [("remove-hold", ())]),
    ("/removehold", [("removehold", ())]),
    ("/remove -    hold", [("remove", ("-", "hold"))]),
    ("/e2e-test2", [("e2e-test2", ())]),
    ("/" + "a" * 32, [("a" * 32, ())]),
    ("Looks good.\n\n/lgtm\nthanks", [("lgtm", ())]),
    ("/hold\r\n/lgtm\r\n", [("hold", ()), ("lgtm", ())]),
    ("/hold cancel\r", [("hold", ("cancel",))]),
    ("one\r/hold", [("hold", ())]),
    ("> /hold\n\n/hold cancel", [("hold", ("cancel",))]),
    ("> /hold\n> > /lgtm\n/hold cancel", [("hold", ("cancel",))]),
    ("```\n/hold\n```\n/lgtm", [("lgtm", ())]),
    ("~~~\n/hold\n~~~\n/lgtm", [("lgtm", ())]),
    ("```python title='x'\n/hold\n```\n/lgtm", [("lgtm", ())]),
    ("````\n/hold\n```\n/hold cancel\n````\n/lgtm", [("lgtm", ())]),
    ("~~~\n/hold\n```\n/hold cancel\n~~~\n/lgtm", [("lgtm", ())]),
    ("```\n/hold\n   ```   \n/lgtm", [("lgtm", ())]),
    ("``` not `a` fence\n/hold", [("hold", ())]),
    ("``\n/hold", [("hold", ())]),
    ("- ```sh\n  /hold\n  ```\n/lgtm", [("lgtm", ())]),
    ("1. ```sh\n   /hold\n   ```\n/lgtm", [("lgtm", ())]),
    ("- ```\n/hold", [("hold", ())]),
    ("<!-- /hold -->\n/lgtm", [("lgtm", ())]),
    ("<!--\n/hold\n-->\n/lgtm", [("lgtm", ())]),
    ("Thanks! <!-- hidden\n/hold\n-->\n/lgtm", [("lgtm", ())]),
    ("<!-->\n/hold", [("hold", ())]),
    ("Use a <!-- to start a comment.\n/hold", [("hold", ())]),
    (
        "/hold <!-- not a comment without its end",
        [("hold", ("<!--", "not", "a", "comment", "without", "its", "end"))],
    ),
    ("```\n<!--\n```\n/hold", [("hold", ())]),
    ("<!--\n```\n-->\n/hold", [("hold", ())]),
    ("/assign @alice\u00a0smith", [("assign", ("@alice\u00a0smith",))]),
    ("/hold café", [("hold", ("café",))]),
]
READ_IDS = [
    "plain",
    "with a reason",
    "prow: runs of whitespace and tabs",
    "trailing whitespace",
    "several per comment, in order",
    "several in one line: only the first word is the command",
    "case-insensitive name, arguments untouched",
    "hyphenated name lower-cased",
    "prow: unknown names are still commands",
    "prow: only the first word is the name",
    "digits and hyphens",
    "name of 32 characters",
    "among prose",
    "CRLF line endings",
    "trailing CR",
    "lone CR ends a line",
    "reply quoting a /hold then its own /hold cancel",
    "nested quotes ignored, own command taken",
    "backtick fence",
    "tilde fence",
    "fence with info string",
    "closed only by a fence at least as long",
    "closed only by a fence of the same character",
    "closing fence indented and followed by spaces",
    "backticks in the info string: not a fence",
    "two backticks: not a fence",
    "fence inside a list item",
    "fence inside an ordered list item",
    "list-item fence ends with the item",
    "HTML comment on one line",
    "HTML comment over several lines",
    "HTML comment opened mid-line",
    "empty HTML comment closes itself",
    "mid-line <!-- without --> shown literally",
    "unclosed <!-- on a command line is visible text",
    "<!-- inside a fence is code",
    "``` inside an HTML comment is hidden",
    "no-break space inside an argument is kept for the command to judge",
    "non-ASCII letters in arguments are fine",
]


@pytest.mark.parametrize(("text", "expected"), READ_CASES, ids=READ_IDS)
def test_reads_commands(text: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    """Visible column-0 slash lines become commands, in order, with raw arguments."""
    result = parse_commands(text)
    assert read(result) == expected
    assert result.refused == []


IGNORED_CASES = [
    "",
    "noise",
    "please /hold",
    " /hold",
    "   /hold",
    "\t/hold",
    "    /hold",
    "> /hold",
    ">/hold",
    "> > /hold",
    "   > /hold",
    "> please wait\n>\n> /hold cancel",
    "```\n/hold\n```",
    "~~~\n/hold\n~~~",
    "```yaml\n/hold",
    "~~~~\n/hold\n~~~\n/lgtm",
    "```\n/hold\n    ```\n/lgtm",
    "> ```\n> /hold\n> ```",
    "<!-- /hold -->",
    "<!--\n/hold\n-->",
    "<!--\n/hold",
    "   <!--\n/hold",
    "Thanks <!-- hidden\n/hold\n-->",
    "> <!--\n/hold",
    "- <!--\n/hold",
    "/",
    "/ hold",
    "//comment",
    "/path/to/file",
    "/usr/bin/env python",
    "/notes.txt",
    "/snake_case",
    "/1st",
    "/-hold",
    "/" + "a" * 33,
    "/путь",
    "/ノート",
]
IGNORED_IDS = [
    "empty comment",
    "prose",
    "inline mention",
    "one leading space",
    "three leading spaces",
    "leading tab",
    "indented code",
    "quoted",
    "quoted without a space",
    "nested quote",
    "indented quote",
    "quoted reply with its own quoted command",
    "inside backtick fence",
    "inside tilde fence",
    "unclosed fence runs to the end",
    "shorter fence does not close a longer one",
    "fence indented 4 spaces does not close",
    "fence inside a quote",
    "HTML comment on one line",
    "HTML comment over several lines",
    "unclosed HTML comment at line start hides the rest",
    "indented unclosed HTML comment hides the rest",
    "HTML comment opened mid-line",
    "unclosed HTML comment in a quote hides the rest",
    "unclosed HTML comment in a list item hides the rest",
    "slash alone",
    "slash then space",
    "double slash",
    "path",
    "path with arguments",
    "file name",
    "underscore in name",
    "name starting with a digit",
    "name starting with a hyphen",
    "name of 33 characters",
    "non-ASCII word without ASCII letters",
    "katakana no, a slash look-alike, before Japanese",
]


@pytest.mark.parametrize("text", IGNORED_CASES, ids=IGNORED_IDS)
def test_ignores_lines(text: str) -> None:
    """Hidden, quoted, indented, inline and path-like lines are neither run nor refused."""
    assert parse_commands(text) == ParseResult([], [])


REFUSED_NAME_CASES = [
    ("/h\u043eld", "U+043E (CYRILLIC SMALL LETTER O)"),
    ("/\u0430pprove", "U+0430 (CYRILLIC SMALL LETTER A)"),
    ("/h\u03bfld", "U+03BF (GREEK SMALL LETTER OMICRON)"),
    ("\uff0fhold", "U+FF0F (FULLWIDTH SOLIDUS)"),
    ("\u2215hold", "U+2215 (DIVISION SLASH)"),
    ("/\uff48\uff4f\uff4c\uff44", "U+FF48 (FULLWIDTH LATIN SMALL LETTER H)"),
    ("/loc\u212a", "U+212A (KELVIN SIGN)"),
    ("/hold\u00a0cancel", "U+00A0 (NO-BREAK SPACE)"),
    ("\u202e/hold", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    *((f"{zw}/hold", f"{name} (") for name, zw in ZERO_WIDTH.items()),
    *((f"/ho{zw}ld", f"{name} (") for name, zw in ZERO_WIDTH.items()),
    *((f"/hold{zw} cancel", f"{name} (") for name, zw in ZERO_WIDTH.items()),
]
REFUSED_NAME_IDS = [
    "Cyrillic o",
    "Cyrillic a",
    "Greek omicron",
    "full-width slash",
    "division slash",
    "full-width letters",
    "Kelvin sign lower-cases to k",
    "no-break space glues the argument on",
    "bidi override before the slash",
    *(f"{name} before the slash" for name in ZERO_WIDTH),
    *(f"{name} inside the name" for name in ZERO_WIDTH),
    *(f"{name} after the name" for name in ZERO_WIDTH),
]


@pytest.mark.parametrize(("text", "character"), REFUSED_NAME_CASES, ids=REFUSED_NAME_IDS)
def test_refuses_look_alike_names(text: str, character: str) -> None:
    """A command word that is not plain ASCII is refused, naming the character, never run."""
    result = parse_commands(text + "\n/lgtm")
    assert read(result) == [("lgtm", ())]
    [refusal] = result.refused
    assert refusal.line == text
    assert character in refusal.reason
    assert refusal.reason.endswith("type the command in plain ASCII")


REFUSED_ARGUMENT_CASES = [
    *((f"/hold wait{zw}ing", "argument 1", f"{name} (") for name, zw in ZERO_WIDTH.items()),
    *((f"/assign @alice {zw}@bob", "argument 2", f"{name} (") for name, zw in ZERO_WIDTH.items()),
    ("/label \u202ecod.exe", "argument 1", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("/hold \x1b[31mred", "argument 1", "U+001B"),
    ("/assign \u3164", "argument 1", "U+3164 (HANGUL FILLER)"),
]
REFUSED_ARGUMENT_IDS = [
    *(f"{name} inside an argument" for name in ZERO_WIDTH),
    *(f"{name} starting the second argument" for name in ZERO_WIDTH),
    "bidi override",
    "terminal escape",
    "Hangul filler, a blank letter",
]


@pytest.mark.parametrize(
    ("text", "position", "character"), REFUSED_ARGUMENT_CASES, ids=REFUSED_ARGUMENT_IDS
)
def test_refuses_invisible_characters_in_arguments(
    text: str, position: str, character: str
) -> None:
    """An argument holding an invisible character refuses its command rather than being cleaned."""
    result = parse_commands(text)
    assert result.commands == []
    [refusal] = result.refused
    assert refusal.line == text
    assert refusal.reason.startswith(f"{position} contains the invisible character {character}")


REFUSED_LINE_CASES = [
    ("/hold <!-- but only until Friday -->", HIDDEN_TEXT),
    ("/assign @alice <!-- @mallory -->", HIDDEN_TEXT),
    ("/lgtm <!-- and more\n-->", HIDDEN_TEXT),
    ("/hold " + "x" * (2_000 - 6), LINE_TOO_LONG),
    ("/" + "\u200b" * 5 + "hold " + "x" * 2_000, LINE_TOO_LONG),
]
REFUSED_LINE_IDS = [
    "HTML comment hides a reason",
    "HTML comment hides an argument",
    "HTML comment opened on the line and closed later",
    "2,000-character line",
    "long line wins over a look-alike name",
]


@pytest.mark.parametrize(("text", "reason"), REFUSED_LINE_CASES, ids=REFUSED_LINE_IDS)
def test_refuses_lines(text: str, reason: str) -> None:
    """Command lines hiding text from readers, or too long to be typed, are refused whole."""
    result = parse_commands(text)
    assert result.commands == []
    assert [refusal.reason for refusal in result.refused] == [reason]
    assert result.refused[0].line == text.split("\n")[0]


def test_line_of_exactly_the_limit_is_read() -> None:
    """A command line of exactly 1,024 characters is still a command."""
    line = "/hold " + "x" * (MAX_LINE_CHARS - 6)
    assert read(parse_commands(line)) == [("hold", ("x" * (MAX_LINE_CHARS - 6),))]


def test_refusal_reasons_carry_no_user_text() -> None:
    """Reasons name code points but never echo the line, so they are safe to post and log."""
    result = parse_commands("/h\u043eld <script>@everyone\n/x `@team` \u200b<b>")
    assert len(result.refused) == 2
    for refusal in result.refused:
        assert not any(part in refusal.reason for part in ("<", "@", "`", "script", "team"))


def test_takes_at_most_ten_commands() -> None:
    """The 11th and later command lines are refused with one reason, the first 10 run."""
    lines = [f"/retest-{n}" for n in range(13)]
    result = parse_commands("\n".join(lines))
    assert [command.name for command in result.commands] == [f"retest-{n}" for n in range(10)]
    assert [(refusal.line, refusal.reason) for refusal in result.refused] == [
        (line, TOO_MANY_COMMANDS) for line in lines[10:]
    ]


def test_refused_lines_do_not_count_towards_the_limit() -> None:
    """Only commands that run count towards the 10; refused look-alikes do not."""
    text = "/h\u043eld\n" + "\n".join(f"/retest-{n}" for n in range(10))
    result = parse_commands(text)
    assert len(result.commands) == MAX_COMMANDS
    assert [refusal.line for refusal in result.refused] == ["/h\u043eld"]


def test_huge_comment_is_read_only_up_to_the_limit() -> None:
    """Of a huge comment of slash lines 10 run, the rest are refused, none past 65,536 is seen."""
    before = "".join(f"/c-{n:05}\n" for n in range(MAX_COMMENT_CHARS // 9 + 1))
    text = before + "/beyond-the-cut\n" * 100
    seen = text[:MAX_COMMENT_CHARS].split("\n")
    result = parse_commands(text)
    assert [command.line for command in result.commands] == seen[:10]
    assert [refusal.line for refusal in result.refused] == seen[10:]
    assert {refusal.reason for refusal in result.refused} == {TOO_MANY_COMMANDS}
    assert len(result.refused) > 7_000
    assert not any("beyond" in refusal.line for refusal in result.refused)


def test_command_cut_by_the_limit_is_refused() -> None:
    """A command line cut by the 65,536-character limit is refused, not read in part."""
    text = "x" * (MAX_COMMENT_CHARS - 6) + "\n/hold cancel"
    result = parse_commands(text)
    assert result.commands == []
    assert [(refusal.line, refusal.reason) for refusal in result.refused] == [("/hold", CUT_OFF)]


def test_command_ending_exactly_at_the_limit_is_read() -> None:
    """A comment cut right after a line break loses no part of the line before it."""
    text = "/hold\n" + "x" * (MAX_COMMENT_CHARS - 7) + "\n/lgtm"
    assert read(parse_commands(text)) == [("hold", ())]


def test_cut_comment_treats_unclosed_html_comments_as_hidden() -> None:
    """Past the cut a ``-->`` may close a mid-line ``<!--``, so the lines after it stay hidden."""
    text = "Thanks <!-- note\n/approve\n" + "x" * MAX_COMMENT_CHARS + "\n-->"
    assert parse_commands(text) == ParseResult([], [])


PATHOLOGICAL_CASES = [
    "<!--" * (MAX_COMMENT_CHARS // 4),
    "a <!--\n" * (MAX_COMMENT_CHARS // 7),
    "`" * MAX_COMMENT_CHARS,
    "```\n" * (MAX_COMMENT_CHARS // 4),
    "> " * (MAX_COMMENT_CHARS // 2),
    "- " * (MAX_COMMENT_CHARS // 2),
    "1. ```\n" * (MAX_COMMENT_CHARS // 7),
    "/" + "a" * MAX_COMMENT_CHARS,
    "/" + "\u200b" * MAX_COMMENT_CHARS,
    "\r" * MAX_COMMENT_CHARS,
]
PATHOLOGICAL_IDS = [
    "comment openers",
    "mid-line comment openers",
    "backticks",
    "fences",
    "quote markers",
    "list markers",
    "list-item fences",
    "one long slash word",
    "slash then zero-width characters",
    "carriage returns",
]


@pytest.mark.parametrize("text", PATHOLOGICAL_CASES, ids=PATHOLOGICAL_IDS)
def test_pathological_comments_yield_nothing(text: str) -> None:
    """Comments built to trap a backtracking parser parse, and hold no command."""
    assert parse_commands(text).commands == []


def test_command_keeps_its_line() -> None:
    """Each command carries the raw line it came from, for replies and audit logs."""
    result = parse_commands("intro\n/Hold  Until Friday\r\n")
    assert result.commands == [Command("hold", ("Until", "Friday"), "/Hold  Until Friday")]


LOGIN_CASES = [
    ("a", True),
    ("octocat", True),
    ("Octo-Cat-42", True),
    ("a" * 39, True),
    ("", False),
    ("a" * 40, False),
    ("-octocat", False),
    ("octocat-", False),
    ("octo--cat", False),
    ("octo_cat", False),
    ("octo.cat", False),
    ("@octocat", False),
    ("dependabot[bot]", False),
    ("octo\u200bcat", False),
    ("\u043ectocat", False),
    ("octocat\n", False),
]
LOGIN_IDS = [
    "one character",
    "plain",
    "hyphens and digits",
    "39 characters",
    "empty",
    "40 characters",
    "leading hyphen",
    "trailing hyphen",
    "double hyphen",
    "underscore",
    "dot",
    "at sign is not part of a login",
    "app bot suffix",
    "zero-width space",
    "Cyrillic o",
    "trailing newline",
]


@pytest.mark.parametrize(("value", "valid"), LOGIN_CASES, ids=LOGIN_IDS)
def test_is_login(value: str, valid: bool) -> None:
    """Logins are 1-39 ASCII letters, digits and single inner hyphens."""
    assert is_login(value) is valid


NORMALISE_LOGIN_CASES = [
    ("@octocat", "octocat"),
    ("octocat", "octocat"),
    ("@@octocat", None),
    ("@", None),
    ("@-octocat", None),
]
NORMALISE_LOGIN_IDS = ["mention", "bare", "two at signs", "at sign alone", "invalid after @"]


@pytest.mark.parametrize(("value", "expected"), NORMALISE_LOGIN_CASES, ids=NORMALISE_LOGIN_IDS)
def test_normalise_login(value: str, expected: str | None) -> None:
    """One leading ``@`` is dropped; anything that is then not a login gives None."""
    assert normalise_login(value) == expected


LABEL_CASES = [
    ("bug", True),
    ("do-not-merge/hold", True),
    ("needs review 🚦", True),
    ("area: ci", True),
    ("x" * 50, True),
    ("", False),
    ("x" * 51, False),
    (" bug", False),
    ("bug ", False),
    ("bug\tfix", False),
    ("bug\nfix", False),
    ("b\u200bug", False),
    ("bug\u2060", False),
    ("\ufeffbug", False),
    ("needs\u00a0review", False),
    ("bug\u202e", False),
    ("\u3164", False),
]
LABEL_IDS = [
    "plain",
    "with slash",
    "with space and emoji",
    "with colon",
    "50 characters",
    "empty",
    "51 characters",
    "leading space",
    "trailing space",
    "tab",
    "newline",
    "zero-width space",
    "word joiner",
    "byte order mark",
    "no-break space",
    "bidi override",
    "Hangul filler",
]


@pytest.mark.parametrize(("value", "valid"), LABEL_CASES, ids=LABEL_IDS)
def test_is_label(value: str, valid: bool) -> None:
    """Labels are 1-50 printable, visible characters without surrounding whitespace."""
    assert is_label(value) is valid


IDENTIFIER_CASES = [
    ("a", True),
    ("model-v1.2_rc", True),
    ("9lives", True),
    ("a" * 100, True),
    ("", False),
    ("a" * 101, False),
    ("-a", False),
    (".env", False),
    ("_a", False),
    ("a..b", False),
    ("a/b", False),
    ("a b", False),
    ("a\n", False),
    ("caf\u00e9", False),
    ("a\u200b", False),
]
IDENTIFIER_IDS = [
    "one character",
    "dots, hyphens and underscores",
    "leading digit",
    "100 characters",
    "empty",
    "101 characters",
    "leading hyphen",
    "leading dot",
    "leading underscore",
    "double dot",
    "slash",
    "space",
    "trailing newline",
    "non-ASCII letter",
    "zero-width space",
]


@pytest.mark.parametrize(("value", "valid"), IDENTIFIER_CASES, ids=IDENTIFIER_IDS)
def test_is_identifier(value: str, valid: bool) -> None:
    """Identifiers are ASCII, start alphanumeric, allow ``._-`` and never hold ``..``."""
    assert is_identifier(value) is valid


def shown(reply: str) -> str:
    """Return the text a reader sees for an escaped value."""
    assert reply.startswith("<code>")
    assert reply.endswith("</code>")
    return html.unescape(reply.removeprefix("<code>").removesuffix("</code>"))


ESCAPE_CASES = [
    ("/hold", "<code>&#47;hold</code>", "/hold"),
    ("@everyone", "<code>&#64;everyone</code>", "@everyone"),
    (
        "<script>alert(1)</script>",
        "<code>&#60;script&#62;alert&#40;1&#41;&#60;&#47;script&#62;</code>",
        "<script>alert(1)</script>",
    ),
    ("a `` b ` c", "<code>a &#96;&#96; b &#96; c</code>", "a `` b ` c"),
    ("x | y", "<code>x &#124; y</code>", "x | y"),
    ("&lt;", "<code>&#38;lt&#59;</code>", "&lt;"),
    ("h\u043eld", "<code>h\u043eld</code>", "h\u043eld"),
    ("ho\u200bld", "<code>ho&#60;U&#43;200B&#62;ld</code>", "ho<U+200B>ld"),
    ("a\n\nb", "<code>a&#60;U&#43;000A&#62;&#60;U&#43;000A&#62;b</code>", "a<U+000A><U+000A>b"),
    ("", "<code></code>", ""),
]
ESCAPE_IDS = [
    "slash-command",
    "mention",
    "HTML",
    "backticks",
    "table pipe",
    "entity shown as typed",
    "look-alike letter kept",
    "zero-width character shown",
    "blank line cannot end the paragraph",
    "empty",
]


@pytest.mark.parametrize(("value", "expected", "seen"), ESCAPE_CASES, ids=ESCAPE_IDS)
def test_escape_for_reply(value: str, expected: str, seen: str) -> None:
    """User text becomes inert inline code that reads exactly as typed."""
    reply = escape_for_reply(value)
    assert reply == expected
    assert shown(reply) == seen


def test_escape_for_reply_leaves_no_markup() -> None:
    """Outside character references no ASCII punctuation, and so no markup, survives."""
    reply = escape_for_reply("`@team` <img src=x> | #1 :tada: *x* [a](b) \\_\n")
    inner = reply.removeprefix("<code>").removesuffix("</code>")
    assert not set(re.sub(r"&#[0-9]+;", "", inner)) & set(string.punctuation)


LONG_CASES = [
    ("x" * MAX_REPLY_CHARS, "x" * MAX_REPLY_CHARS),
    ("x" * (MAX_REPLY_CHARS + 1), "x" * (MAX_REPLY_CHARS - 1) + "…"),
    ("@" * 100_000, "@" * (MAX_REPLY_CHARS - 1) + "…"),
    ("x" * 195 + "\u200b" * 3, "x" * 195 + "…"),
]
LONG_IDS = [
    "exactly 200 kept",
    "201 shortened",
    "very long text",
    "shown invisible characters count",
]


@pytest.mark.parametrize(("value", "seen"), LONG_CASES, ids=LONG_IDS)
def test_escape_for_reply_truncates(value: str, seen: str) -> None:
    """At most 200 characters are shown, the last an ellipsis when text was cut."""
    assert shown(escape_for_reply(value)) == seen
