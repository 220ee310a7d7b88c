"""Slash-commands in pull-request and issue comments: declare, parse, authorise, run, answer.

Adding a command is one module under ``handlers/commands/`` (discovered automatically)::

    from bot.commands import CommandRefused, Invocation, command
    from schemas.commands_config import PermissionLevel

    @command(
        "hold",
        usage="/hold [cancel]",
        help="Block merging until `/hold cancel`.",
        permission=PermissionLevel.TRIAGE,      # default; `bot.commands.permissions` overrides
        aliases=("unhold",),
        not_by_author=False,                    # True: the PR's author may not run it
        on_issues=False,                        # True: also runs on plain issues
    )
    async def hold(inv: Invocation) -> str | None:
        if inv.args not in ((), ("cancel",)):
            raise CommandRefused("use `/hold` or `/hold cancel`")  # → `confused` + reply
        ...                                     # GitHub calls through inv.ctx.gh, idempotent
        return None                             # or a message for the reply; `+1` either way

The runner (`bot.commands.runner.run_commands`) parses the text, looks the name up,
checks the permission (collaborator role, users, teams, not-by-author) before the function
runs, and answers with reactions and at most one reply. Arguments arrive raw: validate them
with ``bot.commands.parser`` (``is_login``, ``normalise_login``, ``is_label``,
``is_identifier``) and quote user input in messages only through ``escape_for_reply``.
``inv.state`` is the pull request (fetched once per text, labels kept current); a command
declared ``on_issues=True`` also runs on plain issues and reads ``inv.thread`` instead (the
pull request or the issue: owner, repo, number, author, labels, html_url);
``inv.config`` the config with the repo file merged in; ``inv.permissions`` answers further
permission questions with a per-delivery cache. After adding or changing a declaration,
run ``scripts/readme_tables.py`` to regenerate README.md's command table (a test checks it).

A command runs in GitLab merge-request notes only when declared ``gitlab_refusal=None``; it
then reads ``inv.change`` (the merge request behind the forge port) and writes only through
``inv.ctx.change_forge``. Otherwise the GitLab reply quotes the declared reason.
"""

from __future__ import annotations

from bot.commands.framework import (
    ChangeState,
    CommandRefused,
    CommandRegistry,
    CommandSpec,
    Invocation,
    IssueState,
    PullState,
    ThreadState,
    command,
    commands,
)

__all__ = [
    "ChangeState",
    "CommandRefused",
    "CommandRegistry",
    "CommandSpec",
    "Invocation",
    "IssueState",
    "PullState",
    "ThreadState",
    "command",
    "commands",
]
