"""Server-rendered pages of the administrative tree.

Reading the tree is public (no login). Merging and abolishing places are pages for
administrators, within their jurisdiction: they call the same actions as the API, a place outside
the jurisdiction answers 404 like an unknown code, and bad input re-shows the form with 400.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongzhi.core.errors import ActionError, NotAllowedError, NotFoundError
from gongzhi.places import queries
from gongzhi.places.actions import CODE_MAX, NAME_MAX, do_abolish_place, do_merge_places

# The tree page stops at communities (city=1 … community=4); groups and grids are listed on
# each community's page, which keeps the page small with a full district's thousands of grids.
COMMUNITY_DEPTH = 4


def _as_of(request: HttpRequest) -> tuple[date, str]:
    """The ``as_of`` query parameter, or today; a bad value falls back to today with a message."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return timezone.localdate(), ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return timezone.localdate(), _("日期格式应为 YYYY-MM-DD，已显示今天的区划。")


def _may_change(request: HttpRequest, code: str) -> bool:
    """Whether to offer the merge/abolish links (the pages check again)."""
    try:
        queries.access_place_to_change(request.user, code)
    except ActionError:
        return False
    return True


def tree(request: HttpRequest) -> HttpResponse:
    as_of, error = _as_of(request)
    # A bad date still shows today's tree (with the message), but answers 400: bad input is 4xx.
    return render(
        request,
        "places/tree.html",
        {
            "as_of": as_of,
            "error": error,
            "roots": queries.place_tree(as_of, max_depth=COMMUNITY_DEPTH),
            "may_merge": queries.may_change_tree(request.user),
        },
        status=400 if error else 200,
    )


def detail(request: HttpRequest, code: str) -> HttpResponse:
    place = queries.get_by_code(code)
    if place is None:
        raise Http404(_("区划代码不存在"))
    # A closed place shows the children it had on its last day, so 将石 still lists its 8 groups.
    children_on = place.valid_to - timedelta(days=1) if place.valid_to else timezone.localdate()
    return render(
        request,
        "places/detail.html",
        {
            "place": place,
            "ancestors": queries.ancestors(place),
            "children": queries.children(place, children_on),
            "names": queries.name_history(place),
            "changes": queries.changes_for(place),
            "predecessors": queries.predecessors(place),
            "successors": queries.successors(place),
            "current": queries.current_places_for(place),
            "may_change": place.valid_to is None and _may_change(request, place.code),
        },
    )


# --- administrators: merge and abolish ---------------------------------------------------------


class _ChangeForm(forms.Form):
    effective = forms.DateField(
        label=gettext_lazy("生效日期"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    document_ref = forms.CharField(label=gettext_lazy("批准文件文号"), max_length=120, required=False)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MergeForm(_ChangeForm):
    field_order = ["codes", "code", "name", "effective", "document_ref", "note"]

    codes = forms.CharField(
        label=gettext_lazy("被合并单位的区划代码"),
        max_length=2000,
        help_text=gettext_lazy("两个或以上，同一上级、同一层级；用空格、逗号或换行分隔"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    code = forms.CharField(label=gettext_lazy("新单位的区划代码"), max_length=CODE_MAX)
    name = forms.CharField(label=gettext_lazy("新单位名称"), max_length=NAME_MAX)

    def clean_codes(self) -> list[str]:
        codes = [c for c in re.split(r"[\s,，、;；]+", self.cleaned_data["codes"]) if c]
        if len(set(codes)) < 2:
            raise forms.ValidationError(_("合并至少需要两个不同的单位。"), code="too_few")
        return list(dict.fromkeys(codes))


class AbolishForm(_ChangeForm):
    pass


# Fields the actions name that the forms show under another name.
_FORM_FIELD = {"places": "codes"}


def _show_error(form: forms.Form, exc: ActionError) -> None:
    for name, message in exc.entries():
        name = _FORM_FIELD.get(name, name)
        form.add_error(name if name in form.fields else None, message)


def _require_tree_admin(request: HttpRequest) -> None:
    try:
        queries.ensure_may_change_tree(request.user)
    except NotAllowedError as exc:
        raise PermissionDenied(exc.message) from exc


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest) -> HttpResponse:
    _require_tree_admin(request)
    form = MergeForm(request.POST if request.method == "POST" else None, initial={"codes": request.GET.get("codes", "")[:2000]})
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        try:
            sources = [queries.access_place_to_change(request.user, c, field="codes") for c in data["codes"]]
            merged = do_merge_places(
                sources, data["effective"], data["code"], data["name"],
                actor=request.user, note=data["note"], document_ref=data["document_ref"],
            )
        except ActionError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("已合并为「%(name)s」。") % {"name": merged.name})
            return HttpResponseRedirect(reverse("places:detail", args=[merged.code]))
    status = 400 if request.method == "POST" else 200
    return render(request, "places/merge.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def abolish(request: HttpRequest, code: str) -> HttpResponse:
    _require_tree_admin(request)
    try:
        place = queries.access_place_to_change(request.user, code)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    form = AbolishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        try:
            do_abolish_place(
                place, data["effective"], actor=request.user, note=data["note"], document_ref=data["document_ref"]
            )
        except ActionError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("「%(name)s」已撤销。") % {"name": place.name})
            return HttpResponseRedirect(reverse("places:detail", args=[place.code]))
    status = 400 if request.method == "POST" else 200
    return render(request, "places/abolish.html", {"form": form, "place": place}, status=status)
