from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
application = get_wsgi_application()

# Load what the first requests would otherwise load while clients wait (jieba's dictionary
# takes a second or more): measured by bench/intake.py, whose first seconds otherwise stall.
from django.conf import settings  # noqa: E402
from django.urls import URLResolver, get_resolver  # noqa: E402
from django.utils import translation  # noqa: E402

from gongzhi.core.registry import warm_up  # noqa: E402  (needs the apps loaded above)


def _reverse_tables(resolver: URLResolver) -> None:
    """Build reverse()'s lookup tables of a URLconf and of every namespace in it (per language)."""
    resolver.reverse_dict  # noqa: B018
    for _prefix, inner in resolver.namespace_dict.values():
        _reverse_tables(inner)


get_resolver().url_patterns  # imports every app's urls and views now  # noqa: B018
for _code, _name in settings.LANGUAGES:  # and per language: the catalogue and reverse()'s tables
    with translation.override(_code):
        translation.gettext("办件")
        _reverse_tables(get_resolver())
warm_up()
