from __future__ import annotations

from django.urls import path

from gongzhi.microprojects import views

app_name = "microprojects"
urlpatterns = [
    path("", views.index, name="index"),
    path("community/<str:code>/", views.community, name="community"),
    path("<int:proposal_id>/", views.detail, name="detail"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
    path("propose/", views.propose, name="propose"),
    path("<int:proposal_id>/support/", views.support, name="support"),
    path("<int:proposal_id>/comment/", views.comment, name="comment"),
    path("<int:proposal_id>/rate/", views.rate, name="rate"),
    path("office/", views.office, name="office"),
    path("office/<str:code>/", views.office_place, name="office_place"),
    path("office/<str:code>/fund/", views.office_fund, name="office_fund"),
    path("office/proposal/<int:proposal_id>/", views.office_action, name="office_action"),
]
