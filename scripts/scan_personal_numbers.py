"""Fail if a personal number sits in clear in ``var/`` or the logs (run by ``make test``).

Usage: ``python scripts/scan_personal_numbers.py [PATH ...]`` (default: the settings' VAR_DIR,
which holds the SQLite file, uploads, the notification log and the test run's log). Exit status 1
and one line per finding (file, kind, the number masked) when anything is found.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()
    from django.conf import settings

    from gongzhi.core.pii_scan import scan_files

    paths = [Path(a) for a in argv] or [Path(settings.VAR_DIR)]
    findings = scan_files(paths)
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} personal number(s) in clear under {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    print(f"personal numbers in clear under {', '.join(map(str, paths))}: none")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
