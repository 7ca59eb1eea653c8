from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        user_logged_in.connect(_on_logged_in, dispatch_uid="gongzhi.accounts.logged_in")
        user_login_failed.connect(_on_login_failed, dispatch_uid="gongzhi.accounts.login_failed")

        from gongzhi.accounts.demo import load_demo_users
        from gongzhi.core.registry import register_demo_loader

        register_demo_loader(20, "accounts", load_demo_users)  # after places (10)


def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from gongzhi.accounts.actions import do_record_login

    do_record_login(user, request)


def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Known accounts are audited by the backend (with the failure count); here the unknown ones."""
    from gongzhi.accounts.actions import do_record_failed_login
    from gongzhi.accounts.models import User

    username = str(credentials.get("username") or "")
    if username and not User.objects.filter(username=username).exists():
        do_record_failed_login(None, request, username=username)
