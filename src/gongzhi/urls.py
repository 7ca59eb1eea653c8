from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from gongzhi.api import api

urlpatterns = [
    path("", include("gongzhi.core.urls")),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("people/", include("gongzhi.people.urls")),
    path("places/", include("gongzhi.places.urls")),
    path("services/", include("gongzhi.services.urls")),
    path("councils/", include("gongzhi.councils.urls")),
    path("assets/", include("gongzhi.assets.urls")),
    path("open311/v2/", include("gongzhi.services.open311")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
