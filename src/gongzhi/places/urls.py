from __future__ import annotations

from django.urls import path

from gongzhi.places import views

app_name = "places"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("merge/", views.merge, name="merge"),
    # restructuring plans: declared before "<code>/" (a code could read "plans")
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/approve/", views.plan_approve, name="plan_approve"),
    path("plans/<int:plan_id>/cancel/", views.plan_cancel, name="plan_cancel"),
    path("plans/<int:plan_id>/apply/", views.plan_apply, name="plan_apply"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/abolish/", views.abolish, name="abolish"),
]
