from __future__ import annotations

from django.urls import path

from gongzhi.services import views
from gongzhi.services.views.board import board_cases, board_export

app_name = "services"
urlpatterns = [
    # 一窗办: the window desk
    path("window/", views.window, name="window"),
    path("window/cases/<str:number>/pickup/", views.window_pickup, name="window_pickup"),
    path("window/cases/<str:number>/visit/", views.window_visit, name="window_visit"),
    path("window/notice.pdf", views.missing_notice_pdf, name="notice_pdf"),
    path("applications/<str:number>/", views.application, name="application"),
    path("applications/<str:number>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    # 一网办: the online hall
    path("online/", views.online, name="online"),
    path("online/apply/", views.online_apply, name="online_apply"),
    path("online/cases/", views.my_cases, name="my_cases"),
    path("online/cases/<str:number>/", views.my_case, name="my_case"),
    path("online/cases/<str:number>/supplement/", views.my_case_supplement, name="my_case_supplement"),
    path("online/cases/<str:number>/review/", views.my_case_review, name="my_case_review"),
    # a material promised under 容缺, handed in by the applicant
    path("online/cases/<str:number>/owed/<int:material_id>/", views.my_case_hand_in, name="my_case_hand_in"),
    # a personal number typed into a form, shown once with permission and an audit event
    path("cases/<str:number>/reveal/", views.case_reveal, name="case_reveal"),
    # back office
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/decide/", views.task_decide, name="task_decide"),
    path("tasks/<int:task_id>/supplement/", views.task_supplement, name="task_supplement"),
    path("tasks/<int:task_id>/deliver/", views.task_deliver, name="task_deliver"),
    # 好差评: the department rectifies and appeals, the supervisor decides appeals
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:review_id>/appeal/", views.review_appeal, name="review_appeal"),
    path("rectifications/<int:rect_id>/complete/", views.rectification_complete, name="rectification_complete"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:appeal_id>/decide/", views.appeal_decide, name="appeal_decide"),
    # 阳光办
    path("board/", views.board, name="board"),
    path("board/cases/", board_cases, name="board_cases"),  # the cases behind one figure
    path("board/cases.xlsx", board_export, name="board_export"),  # the same, as Excel (audited)
    # public, no login
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/bundles/<str:code>/", views.bundle_guide, name="bundle_guide"),
    path("catalog/<str:code>/", views.item_guide, name="guide"),
    path("track", views.track, name="track"),
    path("ontime", views.ontime, name="ontime"),
]
