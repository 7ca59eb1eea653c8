"""Pages of the service hall: window desk (一窗办), online hall (一网办), back office, the
supervisor's board (阳光办) and the public progress and on-time pages.

Views only parse input, read through ``services.queries`` (scoped; ``access_*`` raise 404) and
write through ``services.actions``; an action's error is shown next to the input it names and
nothing is stored. Pages a role may not use answer 404, like an object outside one's scope.
"""

from gongzhi.services.views.back_office import (
    task_claim,
    task_decide,
    task_deliver,
    task_detail,
    task_supplement,
    tasks,
)
from gongzhi.services.views.board import board
from gongzhi.services.views.online import (
    case_reveal,
    my_case,
    my_case_hand_in,
    my_case_review,
    my_case_supplement,
    my_cases,
    online,
    online_apply,
)
from gongzhi.services.views.public import ontime, track
from gongzhi.services.views.reviews import (
    appeal_decide,
    appeals,
    rectification_complete,
    review_appeal,
    reviews,
)
from gongzhi.services.views.window import (
    application,
    missing_notice_pdf,
    receipt_pdf,
    window,
    window_pickup,
    window_visit,
)

__all__ = [
    "appeal_decide", "appeals", "application", "board", "case_reveal", "missing_notice_pdf", "my_case", "my_case_hand_in",
    "my_case_review", "my_case_supplement", "my_cases", "online", "online_apply", "ontime", "receipt_pdf",
    "rectification_complete", "review_appeal", "reviews", "task_claim", "task_decide", "task_deliver",
    "task_detail", "task_supplement", "tasks", "track", "window", "window_pickup", "window_visit",
]
