from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.actions import do_load_calendar
from gongzhi.core.actors import CLI
from gongzhi.core.calendar import CalendarFileError, seed_from_library
from gongzhi.core.models import CalendarYear


class Command(BaseCommand):
    help = "Working-day calendar: `calendar load FILE` (CSV date,kind,name or JSON), `calendar seed`, `calendar status`"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["load", "seed", "status"])
        parser.add_argument("file", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load":
            if not options["file"]:
                raise CommandError("用法 usage: gongzhi calendar load FILE")
            path = Path(options["file"])
            if not path.exists():
                raise CommandError(f"文件不存在 file not found: {path}")
            try:
                years = do_load_calendar(path, actor=CLI)
            except CalendarFileError as exc:
                raise CommandError(f"日历文件有误，未导入任何数据 (nothing imported):\n{exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"loaded {', '.join(map(str, years))}"))
        elif action == "seed":
            loaded = seed_from_library()
            self.stdout.write(f"seeded {len(loaded)} year(s) from the holiday library")
        else:
            years = list(CalendarYear.objects.filter(complete=True).values_list("year", flat=True))
            if years:
                self.stdout.write(f"known years: {min(years)}–{max(years)} ({len(years)}); later dates are provisional")
            else:
                self.stdout.write("no schedule loaded: every deadline is provisional")
