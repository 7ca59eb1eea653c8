from __future__ import annotations

from django.urls import path

from gongzhi.councils import converters, views  # noqa: F401  (converters registers ``council_pk``)

app_name = "councils"
urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<council_pk:meeting_id>/", views.meeting_room, name="meeting_room"),
    path("meetings/<council_pk:meeting_id>/console/", views.moderator_console, name="moderator_console"),
    path("meetings/<council_pk:meeting_id>/projector/", views.projector, name="projector"),
    path("meetings/<council_pk:meeting_id>/minutes/", views.minutes_detail, name="minutes_detail"),
    path("meetings/<council_pk:meeting_id>/minutes.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("meetings/<council_pk:meeting_id>/minutes.docx", views.minutes_docx, name="minutes_docx"),
    path("minutes/", views.minutes_index, name="minutes_index"),
    path("minutes/<council_pk:meeting_id>/", views.public_minutes, name="public_minutes"),
]
