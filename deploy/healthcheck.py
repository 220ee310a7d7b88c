"""The image's HEALTHCHECK: healthy when this container's role answers GET /healthz with 200.

The ingress (and `ferrybot run`) serve /healthz on FERRYBOT_HTTP_PORT, the other roles on
FERRYBOT_METRICS_PORT; the check does not know the role, so either answering is enough.
Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def healthy(ports: set[str]) -> bool:
    """True when /healthz on 127.0.0.1 answers 200 on any of `ports`."""
    for port in sorted(ports):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            continue
    return False


if __name__ == "__main__":
    ports = {
        os.environ.get("FERRYBOT_HTTP_PORT", "8080"),
        os.environ.get("FERRYBOT_METRICS_PORT", "9090"),
    }
    sys.exit(0 if healthy(ports) else 1)
