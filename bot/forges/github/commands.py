"""The command runner's port on GitHub: reactions, issue comments, collaborator roles."""

from __future__ import annotations

from datetime import datetime

from bot.commands import feedback
from bot.commands.feedback import PastReplies, Reaction
from bot.commands.framework import IssueState, PullState, ThreadState
from bot.commands.sources import CommentSource, comment_source
from bot.context import Context
from bot.permissions import PermissionResolver
from bot.repo_config import RepoConfig, report_problem
from schemas.forges import ForgeKind
from schemas.github import Issue, PullRequest


class GitHubCommandPort:
    """The existing GitHub behaviour behind the port, for one event."""

    kind = ForgeKind.GITHUB

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def source(self) -> CommentSource | None:
        """The comment, review or PR body the delivery carries."""
        return comment_source(self._ctx)

    async def thread(self, source: CommentSource) -> ThreadState:
        """Fetched rather than taken from the payload: an issue_comment carries no head, and
        a queued event's labels may be stale."""
        gh = self._ctx.gh
        url_vars = {"owner": source.owner, "repo": source.repo}
        if not source.on_pull_request:
            data = await gh.getitem(
                "/repos/{owner}/{repo}/issues/{issue_number}",
                url_vars={**url_vars, "issue_number": str(source.number)},
            )
            issue = Issue.model_validate(data)
            return IssueState(source.owner, source.repo, issue, set(issue.label_names))
        data = await gh.getitem(
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            url_vars={**url_vars, "pull_number": str(source.number)},
        )
        pull = PullRequest.model_validate(data)
        return PullState(source.owner, source.repo, pull, set(pull.label_names))

    async def config(self, source: CommentSource) -> RepoConfig:
        """The central config with the repository's file merged in; a bad file is reported."""
        repo_config = await self._ctx.repo_config(source.owner, source.repo)
        await report_problem(self._ctx.gh, source.owner, source.repo, source.number, repo_config)
        return repo_config

    def permissions(self, source: CommentSource) -> PermissionResolver:
        """Collaborator roles, users and teams of the repository."""
        return PermissionResolver(self._ctx.gh, source.owner, source.repo)

    def subject(self, source: CommentSource) -> str:
        """`github/owner/repo#number`."""
        return f"github/{source.owner}/{source.repo}#{source.number}"

    async def react(self, source: CommentSource, reaction: Reaction) -> None:
        """A reaction on the comment (review bodies take none)."""
        await feedback.react(self._ctx.gh, source, reaction)

    async def already_handled(self, source: CommentSource) -> bool:
        """ferrybot's reaction since the text's last edit, or its reply to a review."""
        return await feedback.already_handled(self._ctx.gh, source, self._ctx.bot_login)

    async def past_replies(self, source: CommentSource, since: datetime) -> PastReplies:
        """The markers of the conversation's comments since `since`."""
        return await feedback.past_replies(self._ctx.gh, source, since)

    async def post_reply(self, source: CommentSource, body: str) -> None:
        """A comment on the pull request's conversation."""
        await feedback.post_reply(self._ctx.gh, source, body)
