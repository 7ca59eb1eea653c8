from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
application = get_wsgi_application()

# Load what the first requests would otherwise load while clients wait (jieba's dictionary
# takes a second or more): measured by bench/intake.py, whose first seconds otherwise stall.
from django.urls import get_resolver  # noqa: E402
from django.utils import translation  # noqa: E402

from gongzhi.core.registry import warm_up  # noqa: E402  (needs the apps loaded above)

get_resolver().url_patterns  # imports every app's urls and views now  # noqa: B018
with translation.override("zh-hant"):  # and the translation catalogues
    translation.gettext("办件")
warm_up()
