from __future__ import annotations

from django.urls import path

from gongzhi.core import views

app_name = "core"
urlpatterns = [
    path("", views.index, name="index"),
    path("preferences/large-text", views.toggle_large_text, name="large_text"),
    path("tools/identifier", views.identifier_check, name="identifier_check"),
    path("tools/deadline", views.deadline, name="deadline"),
]
