"""``pull_feed SOURCE URL``: pull a feed over HTTP and reconcile it with the register."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.assets import actions
from gongzhi.assets.management.commands.import_feed import _report
from gongzhi.core.actors import SystemActor
from gongzhi.core.errors import ActionError


class Command(BaseCommand):
    help = "从外部系统接口拉取数据并与台账核对"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=["exchange", "procurement", "trading_centre"])
        parser.add_argument("url")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = SystemActor("feeds", grants=frozenset({actions.SYSTEM_GRANT}))
        try:
            run = actions.do_pull_feed(options["source"], options["url"], actor=actor)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        _report(self, run)
