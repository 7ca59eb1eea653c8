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

        from django.utils.translation import gettext_lazy as _l

        from gongzhi.core.registry import register_place_move
        from gongzhi.people import actions

        # A community split or merge carries residents' homes and registered organisations
        # (股份合作公司 among them) to the successor places (places.RestructurePlan).
        register_place_move("people.residents", _l("居民（户籍/居住地）"), actions.count_residents_at,
                            actions.move_residents, order=10)
        register_place_move("people.organisations", _l("法人和其他组织（含股份合作公司）"),
                            actions.count_organisations_at, actions.move_organisations, order=20)

        from django.utils.translation import gettext_lazy as _

        from gongzhi.core.registry import register_landing_link

        # 实名核验: the window confirms accounts residents opened online (issue 11).
        register_landing_link("window_clerk", "people:verify_account", _("账户实名核验"))
