"""Every write of the service hall (DESIGN.md §2), one module per seam: ``intake``, ``back_office``,
``sla``, ``reviews``, ``catalog`` (``common`` holds what they share). Import from here: the names below are
the app's write path.

Front desk accepts once (前台一口受理), back office shares the work (后台分工协办): an application
becomes one case per item; each case gets a lead task (routed by item × place) and one task per
co-processing department, all running in parallel, each with its own limit and durable timers.
"""

from __future__ import annotations

from gongzhi.core.errors import ActionError
from gongzhi.services.actions.back_office import (
    do_claim_task,
    do_decide_task,
    do_deliver_result,
    do_fulfil_supplement,
    do_hand_in_owed_material,
    do_record_visit,
    do_request_supplement,
    do_reveal_form_value,
    owed_material_names,
)
from gongzhi.services.actions.catalog import (
    do_create_item,
    do_import_catalog,
    do_save_bundle,
    do_set_item_co_departments,
    do_set_item_materials,
    do_set_item_routes,
    do_update_item,
    import_rows,
)
from gongzhi.services.actions.common import (
    COUNTER,
    RECTIFY_DAYS,
    SHANGHAI,
    SUPPLEMENT_DAYS,
    TimerRow,
)
from gongzhi.services.actions.intake import (
    Intake,
    ServiceErrorKey,
    do_submit_application,
)
from gongzhi.services.actions.reviews import (
    do_complete_rectification,
    do_decide_appeal,
    do_file_appeal,
    do_review_case,
)
from gongzhi.services.actions.sla import (
    do_recompute_provisional_deadlines,
    handle_task_overdue,
    handle_task_warning,
)

__all__ = [
    "COUNTER",
    "RECTIFY_DAYS",
    "SHANGHAI",
    "SUPPLEMENT_DAYS",
    "ActionError",
    "Intake",
    "ServiceErrorKey",
    "TimerRow",
    "do_claim_task",
    "do_complete_rectification",
    "do_create_item",
    "do_decide_appeal",
    "do_decide_task",
    "do_deliver_result",
    "do_file_appeal",
    "do_fulfil_supplement",
    "do_hand_in_owed_material",
    "do_import_catalog",
    "do_recompute_provisional_deadlines",
    "do_record_visit",
    "do_request_supplement",
    "do_reveal_form_value",
    "do_review_case",
    "do_save_bundle",
    "do_set_item_co_departments",
    "do_set_item_materials",
    "do_set_item_routes",
    "do_submit_application",
    "do_update_item",
    "handle_task_overdue",
    "handle_task_warning",
    "import_rows",
    "owed_material_names",
]
