from __future__ import annotations

from django.urls import path

from gongzhi.councils import views

app_name = "councils"
urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<int:meeting_id>/", views.meeting_room, name="meeting_room"),
    path("meetings/<int:meeting_id>/console/", views.moderator_console, name="moderator_console"),
    path("meetings/<int:meeting_id>/projector/", views.projector, name="projector"),
    path("meetings/<int:meeting_id>/minutes/", views.minutes_detail, name="minutes_detail"),
    path("meetings/<int:meeting_id>/minutes.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("meetings/<int:meeting_id>/minutes.docx", views.minutes_docx, name="minutes_docx"),
    path("minutes/<int:meeting_id>/", views.public_minutes, name="public_minutes"),
]
