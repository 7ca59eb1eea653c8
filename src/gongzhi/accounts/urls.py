from __future__ import annotations

from django.urls import path

from gongzhi.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.GongzhiLoginView.as_view(), name="login"),
    path("logout/", views.GongzhiLogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
]
