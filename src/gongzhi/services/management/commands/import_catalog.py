"""``gongzhi import_catalog FILE [--valid-rows-only] [--as USERNAME]``: load a catalog workbook.

The whole import is one transaction: a bad row (without ``--valid-rows-only``), an error or
Ctrl-C leaves the catalog exactly as it was. Exit status is non-zero when nothing was applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.actors import CLI, Actor
from gongzhi.services.actions import do_import_catalog


class Command(BaseCommand):
    help = "导入事项清单工作簿（事项/材料/协办/路由/一件事）。Import a service catalog workbook (.xlsx)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="path to the .xlsx workbook, in the layout the admin export writes (sheet 说明 lists the columns)")
        parser.add_argument(
            "--valid-rows-only", action="store_true",
            help="apply the rows without errors and report the others (default: apply nothing if any row is bad)",
        )
        parser.add_argument(
            "--as", dest="username", default="",
            help="record the import in the audit log as this administrator (default: system actor 'cli')",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 file not found: {path}")
        actor: Actor = CLI
        if options["username"]:
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"没有用户名为 {options['username']} 的用户")
            actor = user
        verbosity = int(options.get("verbosity", 1))

        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  {message}")

        self.stdout.write(f"导入 {path.name} …")
        try:
            report = do_import_catalog(path, actor=actor, valid_rows_only=options["valid_rows_only"], progress=progress)
        except KeyboardInterrupt as exc:
            raise CommandError("已中断，未写入任何数据 (interrupted: nothing was written)") from exc
        except PermissionDenied as exc:
            raise CommandError(f"无权导入事项清单：{exc}") from exc
        for error in report.errors:
            self.stderr.write(f"  ✗ {error}")
        if not report.applied:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
