"""Regenerate tests/data/github/ (trimmed REST description, webhook examples) from npm."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "github"
OPERATIONS = DATA / "operations.txt"
NPM_PACKAGES = ("@octokit/webhooks-examples", "@octokit/openapi")
SPEC_IN_PACKAGE = Path("@octokit/openapi/generated/api.github.com.json")
EXAMPLES_IN_PACKAGE = Path("@octokit/webhooks-examples/api.github.com/index.json")
WEBHOOK_EVENTS = (
    "pull_request",
    "issue_comment",
    "pull_request_review",
    "pull_request_review_comment",
    "check_run",
    "check_suite",
    "package",
    "registry_package",
    "push",
    "ping",
    "installation",
    "deployment",
    "deployment_status",
)
# Documentation-only keywords; dropping them takes the trimmed spec from ~5 MB to well under 2.
DOC_KEYS = frozenset(
    {"description", "summary", "example", "examples", "externalDocs", "x-github", "tags"}
)
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def read_operations(path: Path) -> list[tuple[str, str]]:
    """Parse `METHOD /path` lines, skipping blanks and # comments."""
    operations = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        method, _, template = line.partition(" ")
        if method.lower() not in HTTP_METHODS or not template.startswith("/"):
            sys.exit(f"{path}:{number}: expected 'METHOD /path/template', got {raw!r}")
        operations.append((method.lower(), template.strip()))
    return operations


def strip_docs(node: Any, names_map: bool = False) -> Any:
    """Drop documentation keywords; keys of a `properties` map are data names, kept as is."""
    if isinstance(node, list):
        return [strip_docs(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept = {}
    for key, value in node.items():
        if not names_map and key in DOC_KEYS:
            continue
        kept[key] = strip_docs(value, names_map=(key == "properties" and not names_map))
    return kept


def collect_refs(node: Any, found: set[str]) -> None:
    """Add every `$ref` string under node to found."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            collect_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            collect_refs(item, found)


def resolve_pointer(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        sys.exit(f"external $ref not supported: {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim_spec(spec: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    """Keep the listed operations and, transitively, every component they reference."""
    missing = [
        f"{method.upper()} {template}"
        for method, template in operations
        if method not in spec["paths"].get(template, {})
    ]
    if missing:
        sys.exit("operations missing from GitHub's OpenAPI description:\n  " + "\n  ".join(missing))
    paths: dict[str, Any] = {}
    for method, template in operations:
        item = spec["paths"][template]
        kept = paths.setdefault(template, {})
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        kept[method] = item[method]
    paths = strip_docs(paths)

    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    collect_refs(paths, pending)
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        root, section, name = ref[2:].split("/", 2)
        if root != "components":
            sys.exit(f"$ref outside #/components not supported: {ref}")
        target = strip_docs(resolve_pointer(spec, ref))
        components.setdefault(section, {})[name] = target
        collect_refs(target, pending)
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "paths": paths,
        "components": components,
    }


def write_webhooks(index: list[dict[str, Any]], out: Path) -> int:
    """Write one file per example; return how many were written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    by_name = {entry["name"]: entry for entry in index}
    written = 0
    for event in WEBHOOK_EVENTS:
        if event not in by_name:
            print(f"note: no examples for {event!r} in @octokit/webhooks-examples", file=sys.stderr)
            continue
        seen: dict[str | None, int] = {}
        for example in by_name[event]["examples"]:
            action = example.get("action")
            n = seen.get(action, 0)
            seen[action] = n + 1
            stem = f"{event}.{action}.{n}" if action else f"{event}.{n}"
            (out / f"{stem}.json").write_text(json.dumps(example, indent=2) + "\n")
            written += 1
    return written


def npm_install(workdir: Path) -> Path:
    subprocess.run(
        ["npm", "install", "--no-save", "--no-audit", "--no-fund", *NPM_PACKAGES],
        cwd=workdir,
        check=True,
    )
    return workdir / "node_modules"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--node-modules",
        type=Path,
        help="use an existing node_modules holding the two packages instead of installing",
    )
    args = parser.parse_args()
    operations = read_operations(OPERATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        modules = args.node_modules or npm_install(Path(tmp))
        spec = json.loads((modules / SPEC_IN_PACKAGE).read_text())
        trimmed = trim_spec(spec, operations)
        openapi = DATA / "openapi.json"
        openapi.write_text(json.dumps(trimmed, sort_keys=True, separators=(",", ":")) + "\n")
        index = json.loads((modules / EXAMPLES_IN_PACKAGE).read_text())
        count = write_webhooks(index, DATA / "webhooks")
    size_kb = openapi.stat().st_size // 1024
    print(f"wrote {openapi.relative_to(ROOT)} ({len(operations)} operations, {size_kb} KiB)")
    print(f"wrote {count} webhook examples to {(DATA / 'webhooks').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
