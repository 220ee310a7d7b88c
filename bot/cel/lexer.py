"""Just enough of CEL's lexical grammar to place errors and to bound a rule's cost."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Strings first (raw, triple-quoted, plain) so that nothing inside one is read as code.
_TOKEN = re.compile(
    r"""
    (?P<string>[rR]?[bB]?(?:'''(?:.|\n)*?'''|\"\"\"(?:.|\n)*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?|0[xX][0-9a-fA-F]+)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,\[\](){}])
    |(?P<space>\s+)
    |(?P<other>.)
    """,
    re.VERBOSE,
)
# Macros that iterate: each multiplies the cost of what is inside its parentheses.
COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "map", "filter"})


@dataclass(frozen=True)
class Token:
    """One lexeme and its character offset in the source."""

    kind: str
    text: str
    offset: int


def tokens(source: str) -> list[Token]:
    """The lexemes of `source`, whitespace dropped."""
    found = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        if kind != "space":
            found.append(Token(kind, match.group(), match.start()))
    return found


def string_value(token: Token) -> str:
    """The text of a simple string literal (escapes other than quotes are left as written)."""
    text = token.text.lstrip("rRbB")
    quote = 3 if text[:3] in ("'''", '"""') else 1
    return text[quote:-quote]


def bound_names(found: list[Token]) -> set[str]:
    """Names a comprehension binds (`x` in `list.all(x, ...)`): not environment variables."""
    names = set()
    for i, token in enumerate(found[:-3]):
        if (
            token.kind == "ident"
            and token.text in COMPREHENSIONS
            and i > 0
            and found[i - 1].text == "."
            and found[i + 1].text == "("
        ):
            # The first argument is the bound name (`map(x, p, t)` binds only `x`).
            if found[i + 2].kind == "ident" and found[i + 3].text == ",":
                names.add(found[i + 2].text)
    return names


def first_offset(found: list[Token], text: str) -> int:
    """Offset of the first identifier token spelled `text` (0 when there is none)."""
    return next((t.offset for t in found if t.kind == "ident" and t.text == text), 0)
