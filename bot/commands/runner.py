"""One text's commands end to end: parse → permission → execution → reaction and reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import gidgethub
import gidgetlab.exceptions

from bot.commands.feedback import (
    MARKER_PREFIX,
    Feedback,
    Reaction,
    render_reply,
    reply_window,
)
from bot.commands.framework import (
    ChangeState,
    CommandRefused,
    CommandSpec,
    Invocation,
    commands,
)
from bot.commands.parser import Command, parse_commands
from bot.commands.sources import CommentSource, SourceKind
from bot.context import Context
from bot.forges.github.commands import GitHubCommandPort
from bot.forges.port import CommandPort
from bot.pipeline.retry import is_transient
from schemas.audit import AuditRecord
from schemas.notification import Notification, NotificationKind, Severity


def command_port(ctx: Context) -> CommandPort:
    """The event's forge as the runner sees it: GitLab through `Context.forge`, else GitHub."""
    if ctx.forge is not None:
        return ctx.forge.command_port(ctx)
    return GitHubCommandPort(ctx)


async def run_commands(ctx: Context) -> None:
    """Carry out the commands in the delivery's text, if it has any the bot knows."""
    port = command_port(ctx)
    source = await port.source()
    if source is None:
        return
    if source.author_is_bot or MARKER_PREFIX in source.body:
        ctx.log.info("commands.ignored_bot", author=source.author)
        return
    parsed = parse_commands(source.body)
    # Pull-request commands on a plain issue are left alone, neither run nor quoted: ferrybot
    # answered nothing on issues before, and another bot may own `/assign` or `/close` there.
    lines = [cmd for cmd in parsed.commands if source.on_pull_request or _runs_on_issues(cmd)]
    # Unknown names are left alone too: other bots (and people writing paths) use slashes.
    ours = [(cmd, spec) for cmd in lines if (spec := commands.lookup(cmd.name))]
    if not ours and not parsed.refused:
        return
    if await port.already_handled(source):
        ctx.log.info("commands.already_handled", source=source.key, version=source.updated_at)
        return
    thread = await port.thread(source)
    repo_config = await port.config(source)
    resolver = port.permissions(source)
    feedback = Feedback()
    for refused in parsed.refused:
        feedback.refuse(refused.line, refused.reason)
    for position, (cmd, spec) in enumerate(ours, start=1):
        invocation = Invocation(
            ctx, cmd, source.author, source, thread, repo_config.config, resolver
        )
        await _run_one(invocation, spec, feedback, position, port.subject(source))
    quoted = [cmd.line for cmd in lines] + [line.line for line in parsed.refused]
    await _respond(ctx, port, source, feedback, quoted)


def _runs_on_issues(cmd: Command) -> bool:
    spec = commands.lookup(cmd.name)
    return spec is None or spec.on_issues


async def _run_one(
    invocation: Invocation, spec: CommandSpec, feedback: Feedback, position: int, subject: str
) -> None:
    cmd, ctx = invocation.command, invocation.ctx
    log = ctx.log.bind(command=spec.name, actor=invocation.actor)
    on_gitlab = isinstance(invocation.thread, ChangeState)
    if on_gitlab and spec.gitlab_refusal is not None:
        feedback.refuse(cmd.line, f"`/{spec.name}` does not run on GitLab: {spec.gitlab_refusal}")
        log.info("command.refused", why="forge")
        return
    if spec.not_by_author and invocation.actor.lower() == invocation.thread.author.lower():
        noun = "merge request" if on_gitlab else "pull request"
        feedback.refuse(
            cmd.line,
            f"you opened this {noun}, so `/{spec.name}` has to come from someone else",
        )
        log.info("command.refused", why="author")
        return
    decision = await invocation.permissions.decide(
        invocation.actor, spec.grant(invocation.config), spec.permission
    )
    if not decision.allowed:
        feedback.refuse(cmd.line, f"`/{spec.name}` needs {decision.reason}")
        log.info("command.refused", why="permission")
        return
    try:
        message = await spec.func(invocation)
    except CommandRefused as exc:
        feedback.refuse(cmd.line, exc.sentence)
        log.info("command.refused", why="arguments")
        return
    except gidgethub.BadRequest as exc:
        if is_transient(exc):
            raise
        # A 4xx for one command (say, a label GitHub will not take) must not cost the others.
        feedback.refuse(cmd.line, f"GitHub refused it (HTTP {int(exc.status_code)})")
        log.warning("command.github_refused", status=int(exc.status_code))
        return
    except gidgetlab.exceptions.BadRequest as exc:
        if is_transient(exc):
            raise
        feedback.refuse(cmd.line, f"GitLab refused it (HTTP {int(exc.status_code)})")
        log.warning("command.gitlab_refused", status=int(exc.status_code))
        return
    feedback.accept(message)
    log.info("command.ran")
    await ctx.audit(
        AuditRecord(
            # Deterministic, so a redelivery records the same ids; the position tells apart
            # two runs of one command in a comment.
            id=f"{ctx.envelope.id}:{invocation.source.key}:{position}:{spec.name}",
            delivery_id=ctx.envelope.id,
            actor=invocation.actor,
            action=f"command.{spec.name}",
            subject=subject,
            details={"args": list(cmd.args)},
        )
    )


async def _respond(
    ctx: Context,
    port: CommandPort,
    source: CommentSource,
    feedback: Feedback,
    quoted: list[str],
) -> None:
    if feedback.accepted:
        await port.react(source, Reaction.ACCEPTED)
    if feedback.refused:
        await port.react(source, Reaction.REFUSED)
    # A review body takes no reaction, so its reply is the only answer (and the only trace
    # `already_handled` can find).
    if not (feedback.refusals or feedback.messages or source.kind is SourceKind.REVIEW):
        return
    now = datetime.now(UTC)
    interval = ctx.config.commands.refusal_reply_interval_seconds
    past = await port.past_replies(source, reply_window(source, interval, now))
    if past.answered(ctx.envelope.id, source):
        ctx.log.info("commands.reply_exists", source=source.key)
        return
    only_refusals = feedback.refused and not feedback.accepted
    if only_refusals and past.refused_recently(source.author, now - timedelta(seconds=interval)):
        ctx.log.info("commands.reply_rate_limited", to=source.author)
        return
    await port.post_reply(source, render_reply(source, ctx.envelope.id, feedback, quoted))
    if feedback.refused:
        await ctx.notify(
            Notification(
                kind=NotificationKind.COMMAND_REFUSED,
                severity=Severity.INFO,
                subject=port.subject(source),
                title=f"Command refused for {source.author}",
                # Plain text: each chat provider escapes it for its own service.
                text="\n".join(feedback.plain_refusals()),
                delivery_id=ctx.envelope.id,
                repository=f"{source.owner}/{source.repo}",
            )
        )
