"""The in-process API tests use to put apps, repositories, pulls and people into the fake."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from tests.fakegithub import auth, gitops
from tests.fakegithub.state import (
    PERMISSIONS,
    App,
    CheckRun,
    CheckSuite,
    Comment,
    GitHubState,
    Installation,
    Issue,
    IssueEvent,
    Label,
    Pull,
    Repo,
    ReviewComment,
    Status,
    Token,
    now,
)
from tests.fakegithub.webhooks import AppWebhook, HookDelivery, Webhooks

Files = Mapping[str, str | bytes | None]


class Seeding:
    """Mixed into FakeGitHub; every method changes `self.state` directly, no HTTP."""

    state: GitHubState
    token_ttl: float
    webhooks: Webhooks

    # Apps, installations, tokens

    def add_app(
        self,
        app_id: int = 1,
        slug: str = "ferrybot",
        *,
        public_key_pem: str | None = None,
        owner: str = "ferrybot-dev",
        permissions: Mapping[str, str] | None = None,
        events: Iterable[str] = (
            "pull_request",
            "issue_comment",
            "check_run",
            "check_suite",
            "push",
        ),
    ) -> App:
        """Register an app; without public_key_pem a test keypair is used (app.private_key_pem)."""
        private = None
        if public_key_pem is None:
            key = auth.shared_test_key()
            public_key_pem, private = key.public_pem, key.private_pem
        app = App(
            id=app_id,
            slug=slug,
            name=slug.replace("-", " ").title(),
            owner=owner,
            public_key_pem=public_key_pem,
            private_key_pem=private,
            permissions=dict(permissions if permissions is not None else auth.FULL_PERMISSIONS),
            events=list(events),
        )
        self.state.apps[app_id] = app
        self.state.user(app.bot_login, "Bot")
        return app

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        repos: Iterable[str] | None = None,
        *,
        account: str | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> Installation:
        """Install app_id on repos ("owner/name"), or on all repos of account if repos is None."""
        selected = None if repos is None else {name.lower() for name in repos}
        if account is None:
            if not selected:
                raise ValueError(
                    "give repos=[...] or account=... to say where the app is installed"
                )
            account = next(iter(repos or ())).split("/")[0]
        app = self.state.app(app_id)
        installation = Installation(
            id=installation_id,
            app_id=app_id,
            account=account,
            repositories=selected,
            permissions=dict(permissions if permissions is not None else app.permissions),
        )
        self.state.installations[installation_id] = installation
        return installation

    def issue_token(
        self,
        installation_id: int,
        *,
        ttl: float | None = None,
        repositories: Iterable[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> Token:
        """Mint an installation token as POST /app/installations/{id}/access_tokens does."""
        installation = self.state.installation(installation_id)
        app = self.state.app(installation.app_id)
        visible = installation.repositories
        if visible is None:
            prefix = installation.account.lower() + "/"
            visible = {key for key in self.state.repos if key.startswith(prefix)}
        if repositories is not None:
            visible = visible & {f"{installation.account}/{name}".lower() for name in repositories}
        granted = dict(installation.permissions)
        if permissions is not None:
            granted = {name: level for name, level in permissions.items() if name in granted}
        lifetime = self.token_ttl if ttl is None else ttl
        token = Token(
            value=auth.new_token_value("installation"),
            kind="installation",
            login=app.bot_login,
            expires_at=now() + timedelta(seconds=lifetime),
            installation_id=installation_id,
            app_id=app.id,
            account=installation.account,
            # "All repositories" installations also see repos added after the token was made.
            repositories=None
            if installation.repositories is None and repositories is None
            else frozenset(visible),
            permissions=granted,
        )
        self.state.tokens[token.value] = token
        return token

    def add_token(
        self, value: str, kind: str = "pat", login: str = "octocat", ttl: float | None = None
    ) -> Token:
        """Register a personal access token (or any token) that acts as login."""
        expires = None if ttl is None else now() + timedelta(seconds=ttl)
        token = Token(value=value, kind=kind, login=login, expires_at=expires)
        self.state.tokens[value] = token
        self.state.user(login)
        return token

    def expire_tokens(self) -> None:
        """Make every token known so far expired, as if an hour had passed."""
        past = now() - timedelta(seconds=1)
        for token in self.state.tokens.values():
            token.expires_at = past

    # Repositories and git

    def add_repo(
        self,
        owner: str,
        name: str,
        files: Files | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        fork_of: str | None = None,
    ) -> Repo:
        """Create a repository whose default branch has one commit holding files."""
        repo = Repo(
            id=self.state.next_id(),
            owner=owner,
            name=name,
            default_branch=default_branch,
            private=private,
            fork_of=fork_of,
        )
        self.state.repos[repo.full_name.lower()] = repo
        self.state.user(owner)
        gitops.commit_files(
            self.state.git,
            repo,
            default_branch,
            files or {"README.md": f"# {name}\n"},
            "Initial commit",
        )
        return repo

    def commit_files(
        self,
        owner: str,
        repo: str,
        branch: str,
        files: Files,
        message: str = "Update files",
        *,
        from_branch: str | None = None,
        author: tuple[str, str] = gitops.DEFAULT_AUTHOR,
    ) -> str:
        """Commit files (None deletes a path) on branch, creating it from from_branch (default
        branch) if missing; returns the new commit sha."""
        target = self.state.repo(owner, repo)
        start = target.branch_sha(from_branch or target.default_branch)
        return gitops.commit_files(self.state.git, target, branch, files, message, author, start)

    # The App's webhook (no HTTP to the fake, but `send_webhook` does POST to the receiver)

    def set_app_webhook(self, app_id: int, url: str, secret: str) -> None:
        """Point the App's webhook at `url`, signing deliveries with `secret`."""
        self.state.app(app_id)
        self.webhooks.hooks[app_id] = AppWebhook(url, secret)

    async def send_webhook(self, app_id: int, event: str, payload: dict[str, Any]) -> HookDelivery:
        """Deliver an event to the App's webhook now, as GitHub would; logged either way."""
        self.state.app(app_id)
        return await self.webhooks.send(self.state.next_id(), app_id, event, payload)

    # Issues and pulls

    def add_issue(
        self,
        owner: str,
        repo: str,
        title: str = "An issue",
        *,
        user: str = "octocat",
        body: str | None = None,
        labels: Iterable[str] = (),
    ) -> Issue:
        target = self.state.repo(owner, repo)
        issue = Issue(
            id=self.state.next_id(),
            number=self._next_number(target),
            title=title,
            user=user,
            body=body,
        )
        target.issues[issue.number] = issue
        self.state.user(user)
        self.add_labels(owner, repo, issue.number, labels)
        return issue

    def add_pull(
        self,
        owner: str,
        repo: str,
        *,
        head: str = "feature",
        base: str | None = None,
        files: Files | None = None,
        title: str = "A change",
        body: str | None = None,
        user: str = "octocat",
        labels: Iterable[str] = (),
        draft: bool = False,
        fork: bool = False,
    ) -> Issue:
        """Open a pull request from head (committing files onto it) into base.

        fork=True puts head in `<user>/<repo>`, a fork created on first use, as a contributor's PR.
        """
        target = self.state.repo(owner, repo)
        base = base or target.default_branch
        head_repo = target
        if fork:
            fork_key = f"{user}/{repo}".lower()
            head_repo = self.state.repos.get(fork_key) or self._fork(target, user)
        base_sha = target.branch_sha(base)
        if base_sha is None:
            raise ValueError(f"{target.full_name} has no branch {base!r}")
        if files is not None or head_repo.branch_sha(head) is None:
            content = files if files is not None else {f"{head}.txt": f"{title}\n"}
            start = head_repo.branch_sha(head) or base_sha
            gitops.commit_files(self.state.git, head_repo, head, content, title, start_from=start)
        head_sha = head_repo.branch_sha(head)
        assert head_sha is not None
        issue = self.add_issue(owner, repo, title, user=user, body=body, labels=labels)
        issue.pull = Pull(
            head_repo=head_repo.full_name,
            head_ref=head,
            head_sha=head_sha,
            base_ref=base,
            base_sha=base_sha,
            draft=draft,
        )
        return issue

    def add_comment(
        self, owner: str, repo: str, number: int, body: str, *, user: str = "octocat"
    ) -> Comment:
        target = self.state.repo(owner, repo)
        target.issue(number)
        comment = Comment(
            id=self.state.next_id(),
            repo=target.full_name,
            issue_number=number,
            body=body,
            user=user,
        )
        self.state.comments[comment.id] = comment
        self.state.user(user)
        return comment

    def add_review_comment(
        self, owner: str, repo: str, number: int, body: str, *, path: str, user: str = "octocat"
    ) -> ReviewComment:
        target = self.state.repo(owner, repo)
        pull = target.pull(number).pull
        assert pull is not None
        comment = ReviewComment(
            id=self.state.next_id(),
            repo=target.full_name,
            pull_number=number,
            body=body,
            user=user,
            path=path,
            commit_id=pull.head_sha,
        )
        self.state.review_comments[comment.id] = comment
        return comment

    def add_label(
        self,
        owner: str,
        repo: str,
        name: str,
        *,
        color: str = "ededed",
        description: str | None = None,
    ) -> Label:
        target = self.state.repo(owner, repo)
        existing = target.labels.get(name.lower())
        if existing is not None:
            return existing
        label = Label(id=self.state.next_id(), name=name, color=color, description=description)
        target.labels[name.lower()] = label
        return label

    def add_labels(
        self,
        owner: str,
        repo: str,
        number: int,
        names: Iterable[str],
        *,
        actor: str | None = None,
        app_id: int | None = None,
    ) -> list[str]:
        """Put labels on an issue or PR, creating missing repository labels as GitHub does.

        Each label newly put on gets a `labeled` event by `actor` (default: the issue's
        author, as when someone labels their own PR by hand in the UI).
        """
        target = self.state.repo(owner, repo)
        issue = target.issue(number)
        for name in names:
            label = self.add_label(owner, repo, name)
            if label.name not in issue.labels:
                issue.labels.append(label.name)
                self.record_label_event(issue, "labeled", label.name, actor, app_id)
        return list(issue.labels)

    def remove_labels(
        self, owner: str, repo: str, number: int, names: Iterable[str], *, actor: str | None = None
    ) -> list[str]:
        """Take labels off by hand (an `unlabeled` event by `actor`, default the author)."""
        issue = self.state.repo(owner, repo).issue(number)
        for name in names:
            present = next((n for n in issue.labels if n.lower() == name.lower()), None)
            if present is not None:
                issue.labels.remove(present)
                self.record_label_event(issue, "unlabeled", present, actor, None)
        return list(issue.labels)

    def record_label_event(
        self, issue: Issue, event: str, label: str, actor: str | None, app_id: int | None
    ) -> None:
        """Append to the issue's timeline, as GitHub does for every label change."""
        who = actor or issue.user
        self.state.user(who, "Bot" if who.endswith("[bot]") else "User")
        issue.events.append(IssueEvent(self.state.next_id(), event, label, who, app_id))

    # Checks and statuses from others (CI, other apps)

    def add_check_run(
        self,
        owner: str,
        repo: str,
        sha: str,
        name: str,
        *,
        app_id: int,
        status: str = "completed",
        conclusion: str | None = "success",
        head_branch: str | None = None,
    ) -> CheckRun:
        target = self.state.repo(owner, repo)
        suite = self.check_suite_for(target, app_id, sha, head_branch)
        run = CheckRun(
            id=self.state.next_id(),
            repo=target.full_name,
            suite_id=suite.id,
            app_id=app_id,
            name=name,
            head_sha=sha,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            started_at=now(),
            completed_at=now() if status == "completed" else None,
        )
        self.state.check_runs[run.id] = run
        return run

    def check_suite_for(
        self, repo: Repo, app_id: int, sha: str, head_branch: str | None
    ) -> CheckSuite:
        """The app's suite for sha, created on first use like GitHub does for check runs."""
        for suite in self.state.check_suites.values():
            if suite.repo == repo.full_name and suite.app_id == app_id and suite.head_sha == sha:
                return suite
        if head_branch is None:
            head_branch = next(
                (ref.removeprefix("refs/heads/") for ref, tip in repo.refs.items() if tip == sha),
                None,
            )
        suite = CheckSuite(
            id=self.state.next_id(),
            repo=repo.full_name,
            app_id=app_id,
            head_sha=sha,
            head_branch=head_branch,
        )
        self.state.check_suites[suite.id] = suite
        return suite

    def add_status(
        self,
        owner: str,
        repo: str,
        sha: str,
        state: str,
        context: str = "default",
        *,
        creator: str = "ci-bot",
        description: str | None = None,
        target_url: str | None = None,
    ) -> Status:
        target = self.state.repo(owner, repo)
        item = Status(
            id=self.state.next_id(),
            repo=target.full_name,
            sha=sha,
            state=state,
            context=context,
            creator=creator,
            description=description,
            target_url=target_url,
        )
        target.statuses.append(item)
        return item

    # People

    def set_permission(self, owner: str, repo: str, user: str, permission: str) -> None:
        """Give user a collaborator permission: admin, maintain, write, triage, read or none."""
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}, not {permission!r}")
        self.state.repo(owner, repo).permissions[user.lower()] = permission
        self.state.user(user)

    def add_team_member(self, org: str, team: str, user: str, role: str = "member") -> None:
        self.state.teams.setdefault((org.lower(), team.lower()), {})[user.lower()] = role
        self.state.user(user)

    # Internals

    def _next_number(self, repo: Repo) -> int:
        return max(repo.issues, default=0) + 1

    def _fork(self, upstream: Repo, owner: str) -> Repo:
        fork = Repo(
            id=self.state.next_id(),
            owner=owner,
            name=upstream.name,
            default_branch=upstream.default_branch,
            fork_of=upstream.full_name,
            refs=dict(upstream.refs),
        )
        self.state.repos[fork.full_name.lower()] = fork
        self.state.user(owner)
        return fork
