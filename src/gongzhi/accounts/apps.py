from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_on_logged_in, dispatch_uid="gongzhi.accounts.logged_in")

        from gongzhi.accounts.demo import load_demo_users, second_factor_hint
        from gongzhi.core.registry import register_demo_loader, register_demo_note

        register_demo_loader(20, "accounts", load_demo_users)  # after places (10)
        register_demo_note("accounts.second_factor", second_factor_hint)

        from gongzhi.accounts.actions import prune_login_failures, prune_signup_codes, send_outbox
        from gongzhi.core.registry import register_periodic

        register_periodic("accounts.prune_login_failures", prune_login_failures)
        register_periodic("accounts.prune_signup_codes", prune_signup_codes)
        register_periodic("accounts.send_outbox", send_outbox)


def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from gongzhi.accounts.actions import do_record_login
    from gongzhi.accounts.domain.addresses import client_address
    from gongzhi.accounts.middleware import start_idle_clock

    do_record_login(user, client_address(request))
    if request is not None:
        start_idle_clock(request, user)
