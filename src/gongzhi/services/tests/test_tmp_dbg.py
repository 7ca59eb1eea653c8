import traceback
from django.http import Http404
from gongzhi.services.tests.test_views import _client, _window_accept, id_number, pdf, Case

def test_dbg(hall, monkeypatch):
    orig = Http404.__init__
    def init(self, *a, **k):
        traceback.print_stack(limit=12)
        orig(self, *a, **k)
    monkeypatch.setattr(Http404, "__init__", init)
    c = _client(hall.clerk)
    new = id_number("44030519920315002")
    r = _window_accept(c, new, ["T-RS-002"], "new-1", {"purpose": "购房"}, {"id_card": pdf()}, applicant_name="陈新来")
    print("STATUS", r.status_code, r.get("Location"))
