"""ferrybot's notes on a merge request: found by a hidden marker, edited in place, sectioned."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.forges.gitlab.markdown import NOTE_LIMIT, SECTION_LIMIT, without_quick_actions
from bot.github.limits import fit
from bot.lru_cache import LRUCache

DETAILS_MARKER = "<!-- ferrybot:details -->"
DETAILS_HEADING = "**ferrybot checks**"


# Note ids this process found or made, per (project, iid, marker).
NoteMemory = LRUCache[tuple[str, int, str], int]


def section(name: str, text: str) -> str:
    """One check's part of the details note, between markers naming the check."""
    body = fit(without_quick_actions(text), SECTION_LIMIT)
    return f"<!-- ferrybot:section {name} -->\n{body}\n<!-- ferrybot:end {name} -->"


def with_section(note: str | None, name: str, text: str) -> str:
    """The details note with `name`'s section replaced (or added); other checks' kept."""
    new = section(name, text)
    if note is None:
        return f"{DETAILS_MARKER}\n{DETAILS_HEADING}\n\n{new}"
    name_pattern = re.escape(name)
    pattern = re.compile(
        rf"<!-- ferrybot:section {name_pattern} -->\n.*?\n<!-- ferrybot:end {name_pattern} -->",
        re.DOTALL,
    )
    if pattern.search(note):
        return pattern.sub(lambda _: new, note, count=1)
    return fit(f"{note}\n\n{new}", NOTE_LIMIT)


async def find_note(
    gl: GitLabAPI, project: str, iid: int, marker: str, bot_login: str
) -> dict[str, Any] | None:
    """ferrybot's own note carrying `marker`: anyone can paste the marker, only the bot's counts."""
    path = f"/projects/{quote(project, safe='')}/merge_requests/{iid}/notes"
    params: dict[str, str | bool] = {"sort": "asc", "order_by": "created_at", "per_page": "100"}
    async for note in gl.getiter(path, params):
        author = (note.get("author") or {}).get("username", "")
        if marker in str(note.get("body", "")) and str(author).lower() == bot_login.lower():
            return dict(note)
    return None


async def read_note(gl: GitLabAPI, project: str, iid: int, note_id: int) -> dict[str, Any] | None:
    """One note, or None when it was deleted."""
    path = f"/projects/{quote(project, safe='')}/merge_requests/{iid}/notes/{note_id}"
    try:
        note = await gl.getitem(path)
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    return dict(note)


async def write_note(
    gl: GitLabAPI, project: str, iid: int, note_id: int | None, body: str
) -> dict[str, Any]:
    """Create the note, or edit it in place."""
    path = f"/projects/{quote(project, safe='')}/merge_requests/{iid}/notes"
    if note_id is None:
        return dict(await gl.post(path, data={"body": body}))
    return dict(await gl.put(f"{path}/{note_id}", data={"body": body}))
