"""``import_feed SOURCE FILE``: apply a dropped feed file (exchange, procurement, trading_centre)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.assets import actions
from gongzhi.core.actors import SystemActor
from gongzhi.core.errors import ActionError


class Command(BaseCommand):
    help = "导入外部系统数据文件并与台账核对（exchange / procurement / trading_centre）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=["exchange", "procurement", "trading_centre"])
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = SystemActor("feeds", grants=frozenset({actions.SYSTEM_GRANT}))
        try:
            run = actions.do_import_feed(options["source"], path.read_bytes(), actor=actor, name=path.name)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        _report(self, run)


def _report(cmd: BaseCommand, run: Any) -> None:
    if run.status == "failed":
        raise CommandError(f"导入失败：{run.fatal}")
    cmd.stdout.write(f"feed run {run.pk}: {run.records} records, {run.skipped} skipped, {run.matched} matched, "
                     f"{run.missing_here} missing here, {run.missing_there} missing there, "
                     f"{run.different_price} different price, {run.alerts_opened} alerts opened")
    for issue in run.issues:
        cmd.stdout.write(f"  {issue['where']}：{issue['reason']}")
