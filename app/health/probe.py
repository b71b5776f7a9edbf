"""The container's health check (the slim image has no curl): `python -m app.health.probe` exits 0
when this instance's `/healthz` answers 200 on `PORT`, else 1. Liveness only: an instance whose
database is down stays healthy (restarting it would not help; `/readyz` says so)."""

import sys
import urllib.request

from app.core.config import get_settings


def main() -> int:
    url = f"http://127.0.0.1:{get_settings().port}/healthz"
    try:
        with urllib.request.urlopen(url) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:  # refused, reset, or an HTTP error status
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
