"""``gongzhi backup [DIR]``: a consistent copy of the embedded SQLite database (online backup API).

For PostgreSQL deployments use pg_dump / base backups (docs/operations.md); this command says so.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from gongzhi.core.files import private_dir, private_file


class Command(BaseCommand):
    help = "Back up the embedded SQLite database to var/backups/ (or DIR)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dir", nargs="?", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError("PostgreSQL: use pg_dump or your base-backup tooling (see docs/operations.md)")
        target_dir = Path(options["dir"] or settings.VAR_DIR / "backups")
        private_dir(target_dir)  # a backup is the whole database: 0700 / 0600 like var/ itself
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"gongzhi-{stamp}.sqlite3"
        partial = target.with_suffix(".partial")
        src = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
        dst = sqlite3.connect(str(private_file(partial, create=True)))
        try:
            # Copies in pages while the platform keeps running; progress lines for big databases.
            src.backup(dst, pages=1024, progress=lambda status, remaining, total: self.stdout.write(
                f"\r  {total - remaining}/{total} pages", ending=""
            ))
        except KeyboardInterrupt as exc:
            dst.close()
            partial.unlink(missing_ok=True)
            raise CommandError("interrupted: no backup written") from exc
        finally:
            src.close()
        dst.close()
        partial.rename(target)  # only a complete copy ever carries the final name
        self.stdout.write(self.style.SUCCESS(f"\nbackup written: {target}"))
