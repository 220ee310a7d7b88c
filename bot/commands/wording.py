"""What ferrybot tells a user about their commands, kept apart from what they typed."""

# A sentence is ferrybot's own words with the user's input marked (`Typed`), so each medium
# quotes the input its own way, once: GitHub replies get `escape_for_reply`, chat gets plain
# text that the chat provider escapes for its service.

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.parser import escape_for_reply, shown_as_typed


class Typed(str):
    """Text a user typed (a label, a login, a command line): never markup."""

    __slots__ = ()


@dataclass(frozen=True)
class Sentence:
    """ferrybot's words (plain `str` parts, Markdown-light) and the user's (`Typed` parts)."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, *parts: str) -> Sentence:
        """A sentence from its parts in order, e.g. `Sentence.of(Typed(x), " is not a label")`."""
        return cls(parts)

    def for_github(self) -> str:
        """Markdown for a GitHub reply: typed parts as inert inline code."""
        return "".join(escape_for_reply(p) if isinstance(p, Typed) else p for p in self.parts)

    def plain(self) -> str:
        """Plain text for chat: typed parts as typed, in backticks; escaping is the provider's."""
        return "".join(f"`{shown_as_typed(p)}`" if isinstance(p, Typed) else p for p in self.parts)
