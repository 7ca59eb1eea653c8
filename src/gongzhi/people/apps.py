from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gongzhi.people"
    label = "people"

    def ready(self) -> None:
        from gongzhi.core.registry import register_demo_loader
        from gongzhi.people.demo import load_demo_people

        register_demo_loader(30, "people", load_demo_people)  # after places (10) and accounts (20)
