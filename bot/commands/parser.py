"""Turns a pull-request comment into the slash-commands its author visibly typed.

Rules, in the order they apply:

* Bounds. Only the first 65,536 characters are read (GitHub's own limit for a comment
  body). If the comment was cut and the cut falls inside a line, that line is refused
  rather than read in part: ``/hold cancel`` cut to ``/hold`` would mean the opposite.
  Line endings are ``\\r\\n``, ``\\r`` or ``\\n``, as in CommonMark.
* Hidden lines are never commands. GitHub shows none of these as text in a line of its own:

  - lines in fenced code blocks: a fence is 3 or more backticks or tildes (backtick fences
    take no backtick in their info string) and is closed only by a fence of the same
    character at least as long, followed by nothing but spaces; an unclosed fence runs to
    the end of the comment. A fence opened inside a list item (``- ```py``) ends where
    the item ends, at the first non-blank line indented less than the item's content.
  - lines starting inside an HTML comment. ``<!--`` as the first thing on a line (after
    indentation, ``>`` quote markers and list markers) hides everything up to the next
    ``-->``, or to the end of the comment: that raw HTML reaches the page unclosed.
    ``<!--`` anywhere else hides text only if a ``-->`` follows somewhere, since GitHub
    otherwise shows it literally; when the comment was cut, a ``-->`` may lie beyond the
    cut, so every ``<!--`` hides.

* A command line starts with ``/`` in column 0. An indented line is code or a list item, a
  ``>`` line is quoted (``> /hold``, ``>/hold``, ``> > /hold``), and ``please /hold`` is
  prose, so none of them can be a command. The first word is the command, the rest of the
  line its arguments, split on ASCII whitespace and returned raw: ``/hold /lgtm`` is
  ``hold`` with the argument ``/lgtm``. Each command checks its own arguments, with the
  validators below.
* A first word that is plain ASCII is a command when the name after ``/``, lower-cased, is
  ``[a-z][a-z0-9-]{0,31}``; anything else is prose and ignored without a word: ``/`` alone,
  ``//comment``, ``/path/to/file``, ``/notes.txt``.
* A first word that is not plain ASCII is never run. It is refused, naming the offending
  character, when it looks like a command someone meant to type: it starts with ``/`` or
  a slash look-alike (``／`` and friends), possibly after zero-width characters, it has no
  other slash, and once invisible characters are dropped and NFKC applied it still holds an
  ASCII letter. That covers ``/hоld`` with a Cyrillic о, ``／hold``, ``/ho\\u200bld`` and
  ``\\u200b/hold``. Other non-ASCII words (``/путь``) are prose and ignored.
* A command line is refused, in this order of precedence, when 10 commands were already
  taken ("at most 10 commands per comment"), when it was cut off, when it is longer than
  1,024 characters, when its first word is not ASCII, when an HTML comment starts on it
  (readers would not see the hidden text the bot acts on), or when an argument holds an
  invisible character (zero-width, bidi or other format and control characters) which is
  never stripped silently.

Refusal reasons are plain text holding no user input, so they are safe to log and to post;
show the refused line itself with `escape_for_reply`. The whole parse is one pass over the
lines with plain string searches, so it is linear in the length of the comment.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bot.github.limits import COMMENT_BODY

# GitHub refuses longer comment bodies, so no longer text can reach the parser.
MAX_COMMENT_CHARS: Final = COMMENT_BODY
MAX_LINE_CHARS: Final = 1_024
MAX_COMMANDS: Final = 10
MAX_REPLY_CHARS: Final = 200
MAX_LOGIN_CHARS: Final = 39
MAX_LABEL_CHARS: Final = 50

TOO_MANY_COMMANDS: Final = "at most 10 commands per comment"
CUT_OFF: Final = (
    "this line was cut off by the 65,536-character limit on comments; "
    "post the command in a shorter comment"
)
LINE_TOO_LONG: Final = "a command line can be at most 1,024 characters; shorten it"
HIDDEN_TEXT: Final = (
    "an HTML comment starts on this line, so readers would not see all of what the command "
    "gets; put the HTML comment on a line of its own"
)

_ASCII_WHITESPACE: Final = " \t\n\v\f\r"
# str.split() would also split on NO-BREAK SPACE and other Unicode spaces.
_ASCII_SPACES: Final = re.compile(r"[ \t\n\v\f\r]+")
_NAME: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")
_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_LIST_MARKER: Final = re.compile(r"(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t]|$)")
# Characters drawn like a solidus (Unicode confusables for U+002F): a command typed with
# one of them is a look-alike, so it is refused rather than ignored.
_SLASHES: Final = frozenset("/\u1735\u2044\u2215\u2571\u27cb\u29f8\u3033\u30ce\u31d3\u4e3f\uff0f")
_INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters and marks that render as nothing; their categories do not give them away.
_BLANK_LETTERS: Final = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
_MARKDOWN_PUNCTUATION: Final = frozenset(string.punctuation)


@dataclass(frozen=True, slots=True)
class Command:
    """One slash-command: its lower-cased name, raw arguments and the line it came from."""

    name: str
    args: tuple[str, ...]
    line: str


@dataclass(frozen=True, slots=True)
class RefusedLine:
    """A line that looked like a command but was not run, and why, in words a person acts on."""

    line: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The commands to run, in comment order, and the command-like lines refused."""

    commands: list[Command]
    refused: list[RefusedLine]


@dataclass(frozen=True, slots=True)
class _Fence:
    """An open fenced code block; `column` is where its container's content starts."""

    char: str
    length: int
    column: int


def parse_commands(text: str) -> ParseResult:
    """Return the commands in `text` in order, and the command-like lines refused."""
    truncated = len(text) > MAX_COMMENT_CHARS
    text = text[:MAX_COMMENT_CHARS]
    cut_mid_line = truncated and not text.endswith(("\n", "\r"))
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = body.split("\n")
    last_close = body.rfind("-->")

    def closes_later(position: int) -> bool:
        # "-->" may start right after "<!", so "<!-->" is a whole (empty) comment.
        return truncated or last_close >= position + 2

    commands: list[Command] = []
    refused: list[RefusedLine] = []
    lists: list[int] = []
    fence: _Fence | None = None
    in_comment = False
    offset = 0
    for number, line in enumerate(lines, start=1):
        start = offset
        offset += len(line) + 1
        if in_comment:
            in_comment, _ = _scan_comments(line, start, True, closes_later)
            continue
        indent, first = _indentation(line)
        if fence is not None:
            if fence.column and first < len(line) and indent < fence.column:
                # The list item holding the fence has ended, and the fence with it.
                fence = None
            else:
                if _closes(fence, line, indent, first):
                    fence = None
                continue
        if first == len(line):
            continue
        while lists and indent < lists[-1]:
            lists.pop()
        fence = _open_fence(line, indent, first, lists)
        if fence is not None:
            continue
        in_comment, comment_here = _scan_comments(line, start, False, closes_later)
        if indent:
            continue
        verdict = _read_command_line(line)
        if verdict is None:
            continue
        if len(commands) >= MAX_COMMANDS:
            refused.append(RefusedLine(line, TOO_MANY_COMMANDS))
        elif cut_mid_line and number == len(lines):
            refused.append(RefusedLine(line, CUT_OFF))
        elif len(line) > MAX_LINE_CHARS:
            refused.append(RefusedLine(line, LINE_TOO_LONG))
        elif isinstance(verdict, str):
            refused.append(RefusedLine(line, verdict))
        elif comment_here:
            refused.append(RefusedLine(line, HIDDEN_TEXT))
        elif (reason := _argument_problem(verdict.args)) is not None:
            refused.append(RefusedLine(line, reason))
        else:
            commands.append(verdict)
    return ParseResult(commands, refused)


def _indentation(line: str) -> tuple[int, int]:
    """Return the indentation in columns (tabs stop every 4) and the first other index."""
    column = 0
    for index, char in enumerate(line):
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            return column, index
    return column, len(line)


def _open_fence(line: str, indent: int, first: int, lists: list[int]) -> _Fence | None:
    """Return the fence `line` opens, pushing onto `lists` any list item it starts."""
    container = lists[-1] if lists else 0
    if indent - container > 3:
        return None
    marker = _LIST_MARKER.match(line, first)
    if marker is not None:
        gap, content = _indentation(line[marker.end() :])
        item_column = indent + marker.end() - first
        if content == len(line) - marker.end() or gap > 4:
            # An empty item, or one starting with indented code: one space belongs to the
            # marker and the content cannot open a fence.
            lists.append(item_column + 1)
            return None
        container = item_column + gap
        lists.append(container)
        first = marker.end() + content
    char = line[first]
    if char not in "`~":
        return None
    end = first
    while end < len(line) and line[end] == char:
        end += 1
    if end - first < 3 or (char == "`" and "`" in line[end:]):
        return None
    return _Fence(char, end - first, container)


def _closes(fence: _Fence, line: str, indent: int, first: int) -> bool:
    """Tell whether `line` is a closing fence for `fence`."""
    if indent - fence.column > 3:
        return False
    end = first
    while end < len(line) and line[end] == fence.char:
        end += 1
    return end - first >= fence.length and not line[end:].strip(" \t")


def _scan_comments(
    line: str,
    start: int,
    in_comment: bool,
    closes_later: Callable[[int], bool],
) -> tuple[bool, bool]:
    """Return whether `line` ends inside an HTML comment and whether one opens on it."""
    block_start = _content_start(line)
    position = 0
    opened = False
    while True:
        if in_comment:
            end = line.find("-->", position)
            if end < 0:
                return True, opened
            in_comment = False
            position = end + 3
        else:
            begin = line.find("<!--", position)
            if begin < 0:
                return False, opened
            if begin == block_start or closes_later(start + begin):
                in_comment = True
                opened = True
                position = begin + 2
            else:
                position = begin + 4


def _content_start(line: str) -> int:
    """Return where a line's content starts, past indentation, ``>`` and list markers."""
    index = 0
    while index < len(line):
        if line[index] in " \t>":
            index += 1
            continue
        marker = _LIST_MARKER.match(line, index)
        if marker is None:
            break
        index = marker.end()
    return index


def _read_command_line(line: str) -> Command | str | None:
    """Read an unindented line: a command, a reason to refuse it, or None for prose."""
    lead = 0
    while lead < len(line) and _is_format(line[lead]):
        lead += 1
    end = lead
    while end < len(line) and line[end] not in _ASCII_WHITESPACE:
        end += 1
    word = line[lead:end]
    if not word or word[0] not in _SLASHES:
        return None
    if line[:end].isascii():
        name = word[1:].lower()
        if _NAME.fullmatch(name) is None:
            return None
        return Command(name, tuple(arg for arg in _ASCII_SPACES.split(line[end:]) if arg), line)
    visible = unicodedata.normalize("NFKC", "".join(c for c in word[1:] if not _is_invisible(c)))
    if any(c in _SLASHES for c in visible) or not any(c.isascii() and c.isalpha() for c in visible):
        return None
    offender = next(c for c in line[:end] if not c.isascii())
    return (
        f"the command contains {_describe(offender)}, which is not plain ASCII; "
        "type the command in plain ASCII"
    )


def _argument_problem(args: tuple[str, ...]) -> str | None:
    """Return why the arguments cannot be used, or None when they can."""
    for position, arg in enumerate(args, start=1):
        hidden = next((c for c in arg if _is_invisible(c)), None)
        if hidden is not None:
            return (
                f"argument {position} contains the invisible character {_describe(hidden)}; "
                "retype it without hidden characters"
            )
    return None


def _describe(char: str) -> str:
    """Name a character for a person: code point and Unicode name, both plain ASCII."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def _is_format(char: str) -> bool:
    """Tell whether `char` is an invisible formatting character such as U+200B."""
    return char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


def _is_invisible(char: str) -> bool:
    """Tell whether `char` draws nothing or breaks lines: controls, formats, separators."""
    return char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def is_login(s: str) -> bool:
    """Tell whether `s` is a GitHub login: 1-39 ASCII letters, digits and single inner hyphens."""
    return (
        0 < len(s) <= MAX_LOGIN_CHARS
        and s.isascii()
        and all(c.isalnum() or c == "-" for c in s)
        and not s.startswith("-")
        and not s.endswith("-")
        and "--" not in s
    )


def normalise_login(s: str) -> str | None:
    """Return the login in `s` without its optional leading ``@``, or None if not a login."""
    login = s.removeprefix("@")
    return login if is_login(login) else None


def is_label(s: str) -> bool:
    """Tell whether `s` can be a label: 1-50 printable characters, none invisible, trimmed."""
    return (
        0 < len(s) <= MAX_LABEL_CHARS
        and s.isprintable()
        and not any(c in _BLANK_LETTERS for c in s)
        and s == s.strip()
    )


def is_identifier(s: str) -> bool:
    """Tell whether `s` is an identifier: ``[A-Za-z0-9][A-Za-z0-9._-]{0,99}`` without ``..``."""
    return _IDENTIFIER.fullmatch(s) is not None and ".." not in s


def escape_for_reply(s: str) -> str:
    """Render user text as inline code in a Markdown reply, shown as typed and inert.

    The text goes in a ``<code>`` element with every ASCII punctuation character written as a
    numeric character reference. References are always literal text, in Markdown, in raw
    HTML blocks and in table cells alike, so no backtick, ``|``, ``<script>`` or ``*`` is
    markup, and GitHub links no ``@mention``, ``#123`` or ``:emoji:`` inside ``code``.
    Invisible characters and line breaks are shown as ``<U+200B>``, so a reply can point at
    them. The visible text is at most 200 characters, ending in "…" when shortened.
    """
    escaped = "".join(
        f"&#{ord(char)};" if char in _MARKDOWN_PUNCTUATION else char for char in shown_as_typed(s)
    )
    return f"<code>{escaped}</code>"


def shown_as_typed(s: str) -> str:
    """User text as a person should see it, before any medium's escaping: invisible
    characters and line breaks spelt `<U+200B>`, at most 200 characters (then "…")."""
    shown: list[str] = []
    used = 0
    for char in s:
        piece = f"<U+{ord(char):04X}>" if _is_invisible(char) else char
        if used + len(piece) > MAX_REPLY_CHARS:
            while used > MAX_REPLY_CHARS - 1:
                used -= len(shown.pop())
            shown.append("…")
            break
        shown.append(piece)
        used += len(piece)
    return "".join(shown)
