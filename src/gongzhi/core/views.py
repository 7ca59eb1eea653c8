"""Public pages of the web shell: the landing page and two tools anyone may use.

* the identifier checker (ID cards, residence permits, USCC) calls the same pure function as
  ``/api/v1/identifiers/check``, so the page and the API give the same answer in every language;
* the working-day deadline calculator counts by the State Council holiday schedule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.core.calendar import add_working_days
from gongzhi.core.domain.identifiers import IdentifierKind, IdentifierResult, check_identifier
from gongzhi.core.domain.workdays import FIRST_SUPPORTED, LAST_SUPPORTED
from gongzhi.core.registry import REGISTRY

LARGE_TEXT_COOKIE = "gongzhi_large_text"
MAX_LIMIT_DAYS = 365


class IdentifierCheckForm(forms.Form):
    number = forms.CharField(
        label=_("证件号码或统一社会信用代码"),
        max_length=40,
        help_text=_("居民身份证、港澳台居民居住证、回乡证号码或 18 位统一社会信用代码"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )


class DeadlineForm(forms.Form):
    start = forms.DateField(
        label=_("受理日期"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    days = forms.IntegerField(
        label=_("承诺时限（工作日）"),
        min_value=0,
        max_value=MAX_LIMIT_DAYS,
        help_text=_("受理当日不计入；0 表示即办"),
    )

    def clean_start(self) -> date:
        start: date = self.cleaned_data["start"]
        if not FIRST_SUPPORTED <= start <= LAST_SUPPORTED:
            raise forms.ValidationError(
                _("受理日期应在 %(first)s 至 %(last)s 之间"),
                code="out_of_range",
                params={"first": FIRST_SUPPORTED, "last": LAST_SUPPORTED},
            )
        return start


def _kind_label(kind: IdentifierKind | None) -> str:
    if kind is None:
        return ""
    lang = (get_language() or "").lower()
    if lang.startswith("zh"):
        return kind.label_zh_hant if "hant" in lang else kind.label_zh
    return kind.label_en


def _identifier_context(result: IdentifierResult) -> dict[str, Any]:
    lang = get_language()
    return {
        "result": result,
        "kind_label": _kind_label(result.kind),
        # Error messages come in three languages on the error itself (the domain module is
        # Django-free), so the active language picks one here rather than through gettext.
        "error_messages": [(e.position, e.message(lang)) for e in result.errors],
    }


def index(request: HttpRequest) -> HttpResponse:
    """The front door: what the apps offer the public (``registry.register_front_door``: the
    service catalogue, progress lookup, published minutes…), then the public tools."""
    return render(
        request,
        "core/index.html",
        {
            "panels": [(p.template, p.context(request)) for p in REGISTRY.front_door],
            "identifier_form": IdentifierCheckForm(),
            "deadline_form": DeadlineForm(initial={"start": timezone.localdate(), "days": 20}),
        },
    )


# POST, not GET: a citizen's ID number in a query string ends up in browser history, proxy logs
# and Referer headers.
@require_http_methods(["GET", "POST"])
def identifier_check(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = IdentifierCheckForm(request.POST)
        if not form.is_valid():
            status = 400
        else:
            result = check_identifier(form.cleaned_data["number"])
            context.update(_identifier_context(result))
            if result.valid:
                # A valid number is shown masked only, and not echoed back in the input: hall
                # kiosks are shared. An invalid one stays in the field so it can be corrected.
                form = IdentifierCheckForm()
    else:
        form = IdentifierCheckForm()
    context["form"] = form
    # A form with errors answers 400 (every URL answers bad input with 4xx); htmx swaps 400s in
    # too (base.html's htmx-config), so the page still shows the errors next to the fields.
    return render(request, "core/identifier_check.html", context, status=status)


@require_http_methods(["GET"])
def deadline(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    status = 200
    if "start" in request.GET or "days" in request.GET:
        form = DeadlineForm(request.GET)
        if not form.is_valid():
            status = 400
        else:
            start: date = form.cleaned_data["start"]
            days: int = form.cleaned_data["days"]
            context.update({"start": start, "days": days, "deadline": add_working_days(start, days)})
    else:
        form = DeadlineForm(initial={"start": timezone.localdate(), "days": 20})
    context["form"] = form
    return render(request, "core/deadline.html", context, status=status)


@require_POST
def toggle_large_text(request: HttpRequest) -> HttpResponse:
    """Large-text mode (适老化) is a cookie so it works before login and on shared hall kiosks."""
    nxt = request.POST.get("next") or "/"
    # Only same-site paths: an attacker-supplied next= must not turn this into an open redirect.
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    on = not getattr(request, "large_text", False)
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if on else "0", max_age=365 * 86400, samesite="Lax", httponly=True)
    return response

