from __future__ import annotations

from django.urls import path

from gongzhi.people import views

app_name = "people"
urlpatterns = [
    path("me/", views.my_profile, name="profile"),
    path("me/wallet/", views.my_wallet, name="wallet"),
    path("persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("documents/<int:document_id>/download/", views.document_download, name="document_download"),
]
