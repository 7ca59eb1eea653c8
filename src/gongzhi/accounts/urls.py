from __future__ import annotations

from django.urls import path

from gongzhi.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.GongzhiLoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("password/", views.GongzhiPasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("logout/", views.GongzhiLogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
]
