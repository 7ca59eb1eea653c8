"""``gongzhi import_asset_books USCC FILE [--valid-rows-only] [--as USERNAME]``: load a collective
company's existing books (assets and contracts) from a workbook (layout: assets/spreadsheet.py).

One transaction: a bad row (without ``--valid-rows-only``) leaves everything as it was; every
rejected row is listed with its reasons. Exit status is non-zero when nothing was applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gongzhi.assets.actions import do_import_books
from gongzhi.assets.models import Company
from gongzhi.assets.spreadsheet import read_books
from gongzhi.core.actors import CLI
from gongzhi.core.errors import ActionError


class Command(BaseCommand):
    help = "导入股份合作公司的资产和合同台账（.xlsx）。Import a collective company's books."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("uscc", help="the company's Unified Social Credit Code")
        parser.add_argument("file", help="path to the .xlsx workbook (sheets 资产 and 合同)")
        parser.add_argument("--valid-rows-only", action="store_true",
                            help="apply the rows without errors and report the others (default: all or nothing)")
        parser.add_argument("--as", dest="username", default="", help="record the import as this user")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 file not found: {path}")
        company = Company.objects.filter(uscc=options["uscc"].strip().upper()).first()
        if company is None:
            raise CommandError("公司未登记 company not registered")
        actor: Any = CLI
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError("用户不存在 no such user")
        try:
            assets, leases = read_books(str(path))
            report = do_import_books(company, assets, leases, actor=actor,
                                     valid_rows_only=options["valid_rows_only"])
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        for sheet, n, messages in report.errors:
            self.stdout.write(f"{sheet} 第{n}行: {'；'.join(messages)}")
        ok = sum(1 for r in report.rows if r[2])
        self.stdout.write(f"{ok} 行有效，{len(report.errors)} 行被拒绝；{'已导入' if report.applied else '未导入任何数据'}")
        if not report.applied:
            raise CommandError("nothing applied")
