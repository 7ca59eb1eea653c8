from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gongzhi.core"
    label = "core"
    verbose_name = _("平台核心")

    def ready(self) -> None:
        from gongzhi.core import registry
        from gongzhi.core.audit import seal_pending_events

        # The audit sealer is a periodic job of the worker loop, like any feature's job.
        registry.register_periodic("core.audit_seal", seal_pending_events)
        post_migrate.connect(_seed_calendar, sender=self)


def _seed_calendar(sender: AppConfig, **kwargs: object) -> None:
    """Seed the working-day table from the holiday library on the first migrate (and in tests)."""
    from gongzhi.core.calendar import seed_from_library
    from gongzhi.core.models import CalendarYear

    using = kwargs.get("using", "default")
    if not CalendarYear.objects.using(str(using)).exists():
        seed_from_library()
