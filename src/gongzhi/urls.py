from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from gongzhi.api import api

urlpatterns = [
    # First: Django tries patterns in order, and the API (the systems' and the intake's hot path)
    # need not be compared with every page's pattern before it is found. No page lives under it.
    path("api/v1/", api.urls),
    path("", include("gongzhi.core.urls")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("people/", include("gongzhi.people.urls")),
    path("places/", include("gongzhi.places.urls")),
    path("services/", include("gongzhi.services.urls")),
    path("councils/", include("gongzhi.councils.urls")),
    path("assets/", include("gongzhi.assets.urls")),
    path("microprojects/", include("gongzhi.microprojects.urls")),
    path("villages/", include("gongzhi.villages.urls")),
    path("open311/v2/", include("gongzhi.services.open311")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
