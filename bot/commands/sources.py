"""Where commands come from: the comment, review or PR body a delivery carries, and its author."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.context import Context
from schemas.github import (
    IssueCommentEvent,
    PullRequestEvent,
    PullRequestReviewCommentEvent,
    PullRequestReviewEvent,
    User,
)

# Only newly created text counts: edits and deletions never trigger anything.
EVENTS = (
    "issue_comment.created",
    "pull_request.opened",
    "pull_request_review.submitted",
    "pull_request_review_comment.created",
)


class SourceKind(StrEnum):
    """The kind of text, which decides where the reaction goes."""

    ISSUE_COMMENT = "issue_comment"
    PR_BODY = "pr_body"
    REVIEW = "review"
    REVIEW_COMMENT = "review_comment"
    NOTE = "note"  # a GitLab merge-request note


@dataclass(frozen=True)
class CommentSource:
    """One piece of text that may hold commands, and who wrote it."""

    kind: SourceKind
    owner: str
    repo: str
    number: int
    id: int
    body: str
    author: str
    author_is_bot: bool
    created_at: str | None
    # When this version of the text was written (GitHub's `updated_at`; a review's
    # `submitted_at`): with `key`, it names what a redelivery must not run again.
    updated_at: str | None = None
    # False for a comment on a plain issue: only commands declared `on_issues` run there.
    on_pull_request: bool = True
    # GitLab asks roles by user id, which its Note Hook carries.
    author_id: int | None = None

    @property
    def key(self) -> str:
        """Names the text across re-deliveries: `issue_comment/123`, `pr_body/7`."""
        return f"{self.kind.value}/{self.id}"


def comment_source(ctx: Context) -> CommentSource | None:
    """The text of this delivery that may hold commands, or None (no text)."""
    name = ctx.envelope.name
    if name == "issue_comment.created":
        comment_event = ctx.event(IssueCommentEvent)
        repo = comment_event.repository
        return _source(
            SourceKind.ISSUE_COMMENT,
            repo.owner_login,
            repo.name,
            comment_event.issue.number,
            comment_event.comment.id,
            comment_event.comment.body,
            comment_event.comment.user,
            comment_event.sender,
            comment_event.comment.created_at,
            comment_event.comment.updated_at,
            on_pull_request=comment_event.issue.pull_request is not None,
        )
    if name == "pull_request.opened":
        pr_event = ctx.event(PullRequestEvent)
        pr, repo = pr_event.pull_request, pr_event.repository
        return _source(
            SourceKind.PR_BODY,
            repo.owner_login,
            repo.name,
            pr.number,
            pr.number,
            pr.body,
            pr.user,
            pr_event.sender,
            pr.created_at,
            pr.updated_at,
        )
    if name == "pull_request_review.submitted":
        review_event = ctx.event(PullRequestReviewEvent)
        review, repo = review_event.review, review_event.repository
        return _source(
            SourceKind.REVIEW,
            repo.owner_login,
            repo.name,
            review_event.pull_request.number,
            review.id,
            review.body,
            review.user,
            review_event.sender,
            review.submitted_at,
            review.submitted_at,
        )
    if name == "pull_request_review_comment.created":
        rc_event = ctx.event(PullRequestReviewCommentEvent)
        repo = rc_event.repository
        return _source(
            SourceKind.REVIEW_COMMENT,
            repo.owner_login,
            repo.name,
            rc_event.pull_request.number,
            rc_event.comment.id,
            rc_event.comment.body,
            rc_event.comment.user,
            rc_event.sender,
            rc_event.comment.created_at,
            rc_event.comment.updated_at,
        )
    return None


def _source(
    kind: SourceKind,
    owner: str,
    repo: str,
    number: int,
    ident: int,
    body: str | None,
    author: User,
    sender: User,
    created_at: str | None,
    updated_at: str | None,
    *,
    on_pull_request: bool = True,
) -> CommentSource | None:
    if not body:
        return None
    return CommentSource(
        kind,
        owner,
        repo,
        number,
        ident,
        body,
        author.login,
        is_bot(author) or is_bot(sender),
        created_at,
        updated_at or created_at,
        on_pull_request,
    )


def is_bot(user: User) -> bool:
    """True for Apps and bot accounts, ferrybot itself included."""
    return user.type == "Bot" or user.login.lower().endswith("[bot]")
