"""``gongzhi demo_totp``: the current second-factor code of the DEMO users (demo secret only).

It computes the code from the documented demo secret, never from a stored device, so it cannot
reveal a real user's code.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from gongzhi.accounts.demo import demo_totp_secret
from gongzhi.accounts.domain import totp


class Command(BaseCommand):
    help = "Print the current TOTP code for the demo users that need a second factor (demo secret only)"

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        left = totp.STEP_SECONDS - int(now.timestamp()) % totp.STEP_SECONDS
        code = totp.code_at(demo_totp_secret(), now)
        self.stdout.write(f"演示账号两步验证码 demo TOTP code: {code}  (valid {left} s more; admin, sup_district, sup_subdistrict)\n")
