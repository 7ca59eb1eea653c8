from __future__ import annotations

from django.urls import path

from gongzhi.places import views

app_name = "places"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("merge/", views.merge, name="merge"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/abolish/", views.abolish, name="abolish"),
]
