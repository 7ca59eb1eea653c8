from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gongzhi.people"
    label = "people"

    def ready(self) -> None:
        from gongzhi.core.registry import register_demo_loader, register_periodic
        from gongzhi.people.actions import fold_lookups_into_audit
        from gongzhi.people.demo import load_demo_people

        register_demo_loader(30, "people", load_demo_people)  # after places (10) and accounts (20)
        register_periodic("people.fold_lookups", fold_lookups_into_audit)

        from django.utils.translation import gettext_lazy as _

        from gongzhi.core.registry import register_landing_link

        # 实名核验: the window confirms accounts residents opened online (issue 11).
        register_landing_link("window_clerk", "people:verify_account", _("账户实名核验"))
