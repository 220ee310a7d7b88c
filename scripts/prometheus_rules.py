"""Print deploy/monitoring/prometheusrule.yaml's rule groups as a plain Prometheus rules file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_RULE = ROOT / "deploy" / "monitoring" / "prometheusrule.yaml"


def main() -> int:
    """Write `groups:` (what `rule_files` and promtool read) to stdout or --output."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", nargs="?", type=Path, default=PROMETHEUS_RULE)
    parser.add_argument("--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args()
    yaml = YAML()  # round-trip: the rules keep their comments
    document = yaml.load(args.source.read_text(encoding="utf-8"))
    if document.get("kind") != "PrometheusRule":
        print(f"{args.source} is not a PrometheusRule", file=sys.stderr)
        return 1
    plain = {"groups": document["spec"]["groups"]}
    if args.output is None:
        yaml.dump(plain, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8") as out:
            yaml.dump(plain, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
