"""The feeds package is pure: importing it loads no Django (the app helper calls it from actions)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_importing_the_feeds_loads_no_django() -> None:
    code = (
        "import sys, gongzhi.assets.domain.feeds as f; "
        "import gongzhi.assets.domain.feeds.export, gongzhi.assets.domain.feeds.reconcile; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(  # noqa: S603 — our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
