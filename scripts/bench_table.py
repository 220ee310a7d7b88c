"""Regenerate the README's benchmark table from bench/results.json (written by `make bench`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "bench" / "results.json"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if ingress := r.get("ingress"):
        rows.append(
            (
                f"ingress, signed {ingress['body_bytes'] // 1000} KB, "
                f"{ingress['connections']} connections",
                f"{ingress['ferrybot_events_per_second']:.0f} events/s",
                f"{ingress['ratio']:.2f} x the 40-line aiohttp + aiokafka baseline "
                f"({ingress['baseline_events_per_second']:.0f}/s)",
            )
        )
    for key, row in (r.get("end_to_end") or {}).items():
        if not key.startswith("at_"):
            continue
        rate = key.removeprefix("at_").removesuffix("_per_second")
        rows.append(
            (
                f"webhook → check-run POST, p50 / p99 at {rate} events/s",
                f"{row['ferrybot_p50_ms']:.1f} / {row['ferrybot_p99_ms']:.1f} ms",
                f"Probot 14 (no broker): {row['probot_p50_ms']:.1f} / "
                f"{row['probot_p99_ms']:.1f} ms; p50 ratio {row['p50_ratio_to_probot']:.2f}",
            )
        )
        rows.append(
            (
                f"GitHub calls per `pull_request.opened` at {rate}/s (same check as Probot)",
                f"{row['ferrybot_calls']:.2f}",
                f"Probot: {row['probot_calls']:.2f}",
            )
        )
    if sized := r.get("calls_with_size_labels"):
        rows.append(
            (
                "GitHub calls per `pull_request.opened`, default config (size label + check), "
                "echoes counted",
                f"{sized['calls_per_opened']:.2f}",
                ", ".join(f"{k}: {v}" for k, v in sized["calls"].items()),
            )
        )
    for key, label in (
        ("drain_instant", "instant"),
        ("drain_50ms", "50 ms per call"),
    ):
        if drain := r.get(key):
            rows.append(
                (
                    f"backlog drain, one worker, {drain['pull_requests']} PRs, GitHub {label}",
                    f"{drain['events_per_second']:.0f} events/s",
                    f"{drain['worker_cpu_ms_per_event']:.2f} ms CPU per event; "
                    f"{drain['github_calls_per_event']:.2f} calls per event",
                )
            )
    if paced := r.get("pacing_burst"):
        rows.append(
            (
                f"writes per minute per installation, burst of {paced['events']} events",
                f"{paced['most_writes_in_any_minute']} in the busiest minute",
                "GitHub's limit for content-creating requests: 80/min, 500/hour",
            )
        )
    if memory := r.get("broker_memory"):
        rows.append(
            (
                f"embedded broker RSS after {memory['events']:,} events",
                f"{memory['rss_mb_after']:.0f} MB",
                f"{memory['kb_per_event']:.2f} KB per event (Tansu's memory engine frees nothing)",
            )
        )
    return rows


def table(results: dict[str, Any]) -> str:
    """The Markdown table for one results file."""
    lines = ["| measure | ferrybot | compared with (same run) |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _rows(results)]
    return "\n".join(lines)


def main(check: bool) -> int:
    """Rewrite the README between the markers (or, with --check, say if it is stale)."""
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md lacks the {START} / {END} markers")
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{START}\n{table(json.loads(RESULTS.read_text()))}\n{END}{tail}"
    if check:
        if fresh != text:
            print("README.md's benchmark table is stale: run scripts/bench_table.py")
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
