"""The ``gongzhi`` command: ``gongzhi run | worker | demo | audit verify | calendar load FILE | …``.

Every subcommand is a Django management command, so ``gongzhi X`` == ``django-admin X`` with
Gongzhi's settings; ``gongzhi help`` lists them all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["gongzhi", *argv])
    args[0] = "gongzhi"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
