from __future__ import annotations

from django.urls import path

from gongzhi.villages import views

app_name = "villages"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("projects/<int:project_id>/gantt/", views.gantt, name="gantt"),
    path("projects/<int:project_id>/progress/", views.progress, name="progress"),
    path("projects/<int:project_id>/photos/<int:photo_id>/", views.photo, name="photo"),
    path("<int:village_id>/talent/<int:round_id>/", views.talent_ranking, name="talent_ranking"),
    path("<int:village_id>/resettlement/<int:round_id>/", views.resettlement_order, name="resettlement_order"),
]
