"""`ferrybot/secrets`: secrets in added lines found, named by file, line and rule, never shown."""

from __future__ import annotations

import copy
import json
import logging
from typing import cast

import aiohttp
import pytest
import structlog

from bot.context import Context
from bot.github.dryrun import DryRunGitHubAPI, DryRunRecorder
from bot.publisher import Publisher
from bot.trust import secrets as scanner
from bot.trust.secrets import FileDiff, scan_files
from handlers.secrets import secrets_check
from schemas.commands_config import RepoConfigPolicy
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from schemas.trust import SecretAllowEntry, SecretsConfig
from tests.commands.harness import OWNER, REPO, Bot, RecordingPublisher, bot, pull_payload
from tests.support.bot import INSTALLATION_ID
from tests.support.payloads import load_webhook

__all__ = ["bot"]
CHECK = "ferrybot/secrets"

# Real-looking, made-up values (none was ever issued by its service), split so that no
# scanner of this repository finds them in the source.
SECRETS = [
    ("aws", 'aws_access_key_id = "AKIA' + 'Z4B7QX2M6LRT3PVN"', "AWS Access Key"),
    ("github", 'GH = "ghp_' + 'R8x2Kq9LmN4vT7wZ1bC5dF3gH6jP0sY2uE4a"', "GitHub Token"),
    (
        "slack",
        'hook = "xoxb-' + '293847561029-4857362910485-QwErTy7UiOp9AsDfGhJkLzXc"',
        "Slack Token",
    ),
    ("private-key", "-----BEGIN RSA " + "PRIVATE KEY-----", "Private Key"),
    ("stripe", 'stripe = "sk_' + 'live_4eC39HqLyjWDarjtT1zdp7dc"', "Stripe Access Key"),
    ("password", 'password = "' + 'Tr0ub4dor&3-horse-staple"', "Secret Keyword"),
    (
        "entropy",
        'blob = "q8Zx3Lm9Rt2Vw7Ky' + '4Np6Bh1Jd5Fs0Gc8Xe3Ta9Qu2Wo7Yi"',
        "Base64 High Entropy String",
    ),
    (
        "jwt",
        'auth = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
        + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        + 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"',
        "JSON Web Token",
    ),
]
LOOK_ALIKES = [
    ("environment", 'password = os.environ["DB_PASSWORD"]'),
    ("template", 'password: "${DB_PASSWORD}"'),
    ("uuid", 'request_id = "3f1c9a52-7b4e-4d2a-9c1e-5a6b7c8d9e0f"'),
    ("sequence", 'alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"'),
    (
        "image-digest",
        'image = "sha256:9b2a7c4e1f0d8e3b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"',
    ),
    ("empty", 'password = ""'),
    ("shell-variable", "password = $PASSWORD"),
    ("inline-pragma", SECRETS[1][1] + "  # pragma: " + "allowlist secret"),
]


def _secret_values() -> list[str]:
    """The secret part of each table line (what must never be echoed)."""
    values = []
    for _, line, _ in SECRETS:
        quoted = line.split('"')
        values.append(quoted[1] if len(quoted) > 1 else line)
    return values


def _added(lines: list[str]) -> str:
    return f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + line for line in lines)


@pytest.mark.parametrize(
    ("line", "rule"), [(s[1], s[2]) for s in SECRETS], ids=[s[0] for s in SECRETS]
)
def test_each_secret_is_found_with_its_rule(line: str, rule: str) -> None:
    """Every real-looking secret in an added line is found by the rule named for it."""
    scan = scan_files([FileDiff("app/settings.py", _added(["x = 1", line]))], [], 10**6, 30)
    assert rule in {f.rule for f in scan.findings}
    assert {f.line for f in scan.findings} == {2}
    assert not scan.partial


@pytest.mark.parametrize("line", [s[1] for s in LOOK_ALIKES], ids=[s[0] for s in LOOK_ALIKES])
def test_look_alikes_are_not_findings(line: str) -> None:
    """References, templates, ids, digests and pragma-marked lines are not reported."""
    scan = scan_files([FileDiff("app/settings.py", _added([line]))], [], 10**6, 30)
    assert scan.findings == []


def test_only_added_lines_are_scanned() -> None:
    """A secret on a removed or context line of the diff is not a finding of this change."""
    patch = f"@@ -1,3 +1,3 @@\n ctx = {SECRETS[0][1]}\n-old = {SECRETS[1][1]}\n+new = 1\n end = 2"
    assert scan_files([FileDiff("a.py", patch)], [], 10**6, 30).findings == []


def test_network_verification_is_off() -> None:
    """No detect-secrets filter that verifies candidates with their service runs during a scan."""
    seen: list[str] = []
    original = scanner.SecretsCollection.scan_diff

    def spy(self: scanner.SecretsCollection, diff: str) -> None:
        from detect_secrets.settings import get_filters

        seen.extend(f.path for f in get_filters())
        original(self, diff)

    scanner.SecretsCollection.scan_diff = spy  # type: ignore[method-assign]
    try:
        scan_files([FileDiff("a.py", _added([SECRETS[0][1]]))], [], 10**6, 30)
    finally:
        scanner.SecretsCollection.scan_diff = original  # type: ignore[method-assign]
    assert seen and not [path for path in seen if "verification" in path]
    assert "detect_secrets.filters.allowlist.is_line_allowlisted" in seen


def test_allowlist_by_path_and_rule() -> None:
    """An allow-list entry accepts its rule under its paths only; other rules still fail."""
    sha_line = 'commit = "1f4ae38c2d9b7e6f5a4b3c2d1e0f9a8b7c6d5e4f"'
    allow = [SecretAllowEntry(paths=["deploy/**"], rules=["Hex High Entropy String"])]
    files = [
        FileDiff("deploy/prod/values.yaml", _added([sha_line, SECRETS[0][1]])),
        FileDiff("app/pins.py", _added([sha_line])),
    ]
    scan = scan_files(files, allow, 10**6, 30)
    assert [(f.path, f.line, f.rule) for f in scan.findings] == [
        ("deploy/prod/values.yaml", 2, "AWS Access Key"),
        ("app/pins.py", 1, "Hex High Entropy String"),
    ]
    assert scan.allowed == 1


def test_size_limit_makes_a_partial_scan() -> None:
    """Files past the byte budget are listed as not scanned; the ones before it are scanned."""
    small = FileDiff("a.py", _added([SECRETS[0][1]]))
    big = FileDiff("b.py", _added(["x = 1"] * 2000))
    scan = scan_files([small, big], [], 1000, 30)
    assert scan.scanned == 1 and [f.path for f in scan.findings] == ["a.py"]
    assert [(u.path, u.why) for u in scan.unscanned] == [("b.py", "size limit")]


def test_time_limit_makes_a_partial_scan() -> None:
    """When the time budget is spent, the files not reached are listed as not scanned."""
    files = [FileDiff(f"f{i}.py", _added(["x = 1"])) for i in range(3)]
    scan = scan_files(files, [], 10**6, 1e-9)
    assert scan.partial and {u.why for u in scan.unscanned} == {"time limit"}
    assert scan.scanned + len(scan.unscanned) == 3


async def test_check_run_names_file_line_rule_and_never_the_secret(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Every secret is annotated; its value is in no check run, log, audit or chat message."""
    content = "\n".join(["# settings"] + [line for _, line, _ in SECRETS]) + "\n"
    bot.config = bot.config.model_copy(update={"secrets": SecretsConfig()})
    pr = bot.fake.add_pull(
        OWNER, REPO, head="leak", title="feat: settings", files={"app/settings.py": content}
    )
    assert pr.pull is not None
    payload = pull_payload(pr)
    base = payload["pull_request"]["base"]
    base["repo"]["default_branch"] = base["ref"]
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        await bot.deliver("pull_request", payload)
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK)
    assert run.conclusion == "failure"
    found = {(a["start_line"], a["title"]) for a in run.output["annotations"]}
    for number, (_, _, rule) in enumerate(SECRETS, start=2):
        assert (number, f"Secret: {rule}") in found
    assert all(a["path"] == "app/settings.py" for a in run.output["annotations"])
    assert "| `app/settings.py` | 2 | AWS Access Key |" in run.output["summary"]
    outputs = [
        json.dumps(run.output),
        json.dumps(logs, default=str),
        caplog.text,
        json.dumps([a.model_dump(mode="json") for a in bot.publisher.audits]),
        json.dumps([n.model_dump(mode="json") for n in bot.publisher.notifications]),
    ]
    (audit,) = [a for a in bot.publisher.audits if a.action == "secrets.failure"]
    assert {"path": "app/settings.py", "line": 2, "rule": "AWS Access Key"} in audit.details[
        "findings"
    ]
    assert bot.publisher.notifications
    for value in _secret_values():
        for output in outputs:
            assert value not in output
        assert value[8:28] not in "".join(outputs)


async def test_clean_change_passes_and_repo_allowlist_applies(bot: Bot) -> None:
    """A repo's allow-list (when allowed) turns a finding into a pass; a pass is not audited."""
    bot.config = bot.config.model_copy(
        update={"repo_config": RepoConfigPolicy(allowed_overrides=["secrets.allowlist"])}
    )
    bot.fake.commit_files(
        OWNER,
        REPO,
        "main",
        {
            ".github/ferrybot.yml": "secrets:\n  allowlist:\n"
            "    - {paths: ['deploy/**'], rules: [Hex High Entropy String], reason: commit pins}\n"
        },
        "config",
    )
    pins = 'commit = "1f4ae38c2d9b7e6f5a4b3c2d1e0f9a8b7c6d5e4f"\n'
    pr = bot.fake.add_pull(
        OWNER, REPO, head="pin", title="chore: pin", files={"deploy/pins.yaml": pins}
    )
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK)
    assert run.conclusion == "success"
    assert "1 allowed by the allow-list" in run.output["summary"]
    assert not [a for a in bot.publisher.audits if a.action.startswith("secrets.")]


async def test_partial_scan_says_so(bot: Bot) -> None:
    """A diff over the byte budget gives the configured conclusion and lists what was skipped."""
    bot.config = bot.config.model_copy(update={"secrets": SecretsConfig(max_bytes=50)})
    pr = bot.fake.add_pull(
        OWNER, REPO, head="big", title="feat: big", files={"data/big.txt": "x = 1\n" * 100}
    )
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK)
    assert run.conclusion == "neutral"
    assert run.output["title"] == "Partial scan: no secrets in the files scanned"
    assert "`data/big.txt`: size limit" in run.output["summary"]


async def test_dry_run_without_a_token_says_the_diff_was_not_read() -> None:
    """Dry run reads nothing without a token: the check is neutral and says why, no dead letter."""
    recorder = DryRunRecorder(None)
    payload = copy.deepcopy(load_webhook("pull_request.opened.0", INSTALLATION_ID))
    envelope = Envelope(
        id="dry-run-secrets",
        source=Source.GITHUB,
        event="pull_request",
        action="opened",
        subject="github/Codertocat/Hello-World#2",
        installation_id=INSTALLATION_ID,
        payload=payload,
    )
    async with aiohttp.ClientSession() as session:
        gh = DryRunGitHubAPI(
            recorder, "ferrybot-tests", session=session, base_url="https://api.github.com"
        )
        ctx = Context(
            envelope=envelope,
            gh=gh,
            config=BotConfig(),
            log=structlog.get_logger(),
            dry_run=True,
            publisher=cast(Publisher, RecordingPublisher()),
        )
        await secrets_check(ctx)
    (call,) = [c for c in recorder.calls if c["body"] and c["body"].get("name") == CHECK]
    assert call["body"]["conclusion"] == "neutral"
    assert "could not be read" in call["body"]["output"]["title"]
