"""``make bench``: run every benchmark in this folder (never part of the test suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["intake.py", "meeting.py", "assets.py", "schedule.py"]


def main() -> int:
    failed = 0
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n===== {name} =====", flush=True)
        failed |= subprocess.call([sys.executable, str(path), *sys.argv[1:]])
    return failed


if __name__ == "__main__":
    sys.exit(main())
