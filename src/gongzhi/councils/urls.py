from __future__ import annotations

app_name = "councils"
urlpatterns: list = []
