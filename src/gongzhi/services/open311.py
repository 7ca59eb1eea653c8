"""Open311 GeoReport v2 read views (to be written)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
