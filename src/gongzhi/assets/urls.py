from __future__ import annotations

from django.urls import path

from gongzhi.assets import views

app_name = "assets"
urlpatterns = [
    path("", views.console, name="console"),
    path("companies/<int:company_id>/", views.company, name="company"),
    path("companies/<int:company_id>/leases/new/", views.lease_new, name="lease_new"),
    path("companies/<int:company_id>/leases/<int:lease_id>/reveal/", views.lease_reveal, name="lease_reveal"),
    path("companies/<int:company_id>/deals/new/", views.deal_new, name="deal_new"),
    path("deals/<int:deal_id>/", views.deal, name="deal"),
    path("deals/<int:deal_id>/step/", views.deal_step, name="deal_step"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/close/", views.alert_close, name="alert_close"),
    path("feeds/", views.feeds, name="feeds"),
    path("feeds/<int:run_id>/", views.feed_run, name="feed_run"),
    # 阳光交易: public, no login
    path("trading/", views.public_deals, name="public_deals"),
    path("trading/<int:deal_id>/", views.public_deal, name="public_deal"),
]
