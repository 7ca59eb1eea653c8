from __future__ import annotations

from django.urls import path

from gongzhi.people import views

app_name = "people"
urlpatterns = [
    path("me/", views.my_profile, name="profile"),
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/", views.signup_confirm, name="signup_confirm"),
    path("verify-account/", views.verify_account, name="verify_account"),
    path("me/wallet/", views.my_wallet, name="wallet"),
    path("persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("documents/<int:document_id>/download/", views.document_download, name="document_download"),
]
