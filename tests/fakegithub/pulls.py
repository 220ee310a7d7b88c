"""Pull request mechanics: live head and base, changed files, mergeability, merging."""

from __future__ import annotations

from tests.fakegithub import gitops
from tests.fakegithub.gitops import FileChange, MergeConflict
from tests.fakegithub.state import GitHubState, Issue, Pull, Repo, now


def pull_of(issue: Issue) -> Pull:
    assert issue.pull is not None
    return issue.pull


def head_sha(state: GitHubState, issue: Issue) -> str:
    """An open PR follows pushes to its head branch; a closed one keeps its last head."""
    pull = pull_of(issue)
    if issue.state == "open":
        head_repo = state.repos.get(pull.head_repo.lower())
        tip = head_repo.branch_sha(pull.head_ref) if head_repo else None
        if tip is not None:
            pull.head_sha = tip
    return pull.head_sha


def base_sha(state: GitHubState, repo: Repo, issue: Issue) -> str:
    pull = pull_of(issue)
    if issue.state == "open":
        tip = repo.branch_sha(pull.base_ref)
        if tip is not None:
            pull.base_sha = tip
    assert pull.base_sha is not None
    return pull.base_sha


def changed_files(state: GitHubState, repo: Repo, issue: Issue) -> list[FileChange]:
    """GitHub's three-dot diff: head against its merge base with the base branch.

    A closed PR keeps the base tip it last saw, so a merged PR still lists its files.
    """
    git = state.git
    ancestor = git.merge_base(head_sha(state, issue), base_sha(state, repo, issue))
    old_tree = git.commits[ancestor].tree if ancestor else None
    return gitops.diff_trees(git, old_tree, git.commits[head_sha(state, issue)].tree)


def commits_between(state: GitHubState, repo: Repo, issue: Issue) -> list[str]:
    """Commits on head not on base, newest first."""
    on_base = set(state.git.ancestors(base_sha(state, repo, issue)))
    return [sha for sha in state.git.ancestors(head_sha(state, issue)) if sha not in on_base]


def merged_tree(state: GitHubState, repo: Repo, issue: Issue) -> str:
    """Tree of base with head merged in; raises MergeConflict."""
    git = state.git
    head, base = head_sha(state, issue), base_sha(state, repo, issue)
    ancestor = git.merge_base(head, base)
    return gitops.merge_trees(
        git,
        git.commits[ancestor].tree if ancestor else None,
        git.commits[base].tree,
        git.commits[head].tree,
    )


def mergeable(state: GitHubState, repo: Repo, issue: Issue) -> bool:
    try:
        merged_tree(state, repo, issue)
    except MergeConflict:
        return False
    return True


def merge(
    state: GitHubState,
    repo: Repo,
    issue: Issue,
    method: str,
    title: str,
    message: str,
    merger: str,
) -> str:
    """Merge like the merge button (merge, squash or rebase), move base, close the PR."""
    git = state.git
    pull = pull_of(issue)
    base = base_sha(state, repo, issue)
    head = head_sha(state, issue)
    tree = merged_tree(state, repo, issue)
    who = gitops.signature(merger, f"{merger}@users.noreply.github.com")
    full_message = f"{title}\n\n{message}".rstrip("\n") if message else title
    if method == "merge":
        sha = git.put_commit(tree, [base, head], full_message, who, who)
    elif method == "squash":
        sha = git.put_commit(tree, [base], full_message, who, who)
    else:
        sha = base
        for original in reversed(commits_between(state, repo, issue)):
            commit = git.commits[original]
            parent_tree = git.commits[commit.parents[0]].tree if commit.parents else None
            replayed = gitops.merge_trees(git, parent_tree, git.commits[sha].tree, commit.tree)
            sha = git.put_commit(replayed, [sha], commit.message, commit.author, who)
    repo.refs[f"refs/heads/{pull.base_ref}"] = sha
    pull.base_sha = base
    pull.head_sha = head
    pull.merged = True
    pull.merged_at = now()
    pull.merged_by = merger
    pull.merge_commit_sha = sha
    issue.state = "closed"
    issue.closed_at = pull.merged_at
    issue.updated_at = pull.merged_at
    return sha
