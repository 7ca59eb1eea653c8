from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.audit import seal_pending_events, verify_chain


class Command(BaseCommand):
    help = "Audit chain: `audit verify` checks every link and names the first broken one; `audit seal`"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify", "seal"])
        parser.add_argument("--no-seal", action="store_true", help="verify without sealing pending events first")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seal" or not options["no_seal"]:
            sealed = seal_pending_events()
            self.stdout.write(f"sealed {sealed} pending event(s)")
            if options["action"] == "seal":
                return
        report = verify_chain()
        if not report.ok:
            brk = report.first_break
            assert brk is not None
            who = f"event id {brk.event_id}" if brk.event_id is not None else "chain tail"
            raise CommandError(
                f"审计链断裂 AUDIT CHAIN BROKEN at chain position {brk.chain_seq} ({who}): {brk.reason}. "
                f"{report.checked} event(s) before it verified."
            )
        self.stdout.write(
            self.style.SUCCESS(f"审计链完整 audit chain OK: {report.checked} event(s) verified, {report.unsealed} unsealed")
        )
