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

from gongzhi.core import clock
from gongzhi.core.errors import ActionError, NotAllowedError, NotFoundError
from gongzhi.places import queries
from gongzhi.places.actions import (
    CODE_MAX,
    NAME_MAX,
    PlaceError,
    PlanDraft,
    do_abolish_place,
    do_apply_place_plan,
    do_approve_place_plan,
    do_cancel_place_plan,
    do_draft_place_plan,
    do_merge_places,
    do_update_place_plan,
    plan_preview,
)
from gongzhi.places.enums import PlanKind, PlanStatus
from gongzhi.places.models import RestructurePlan

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
            "may_plan": queries.may_draft_plans(request.user),
            "recent": queries.recent_changes(as_of),
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
            "plans": queries.plans_for_place(place),
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


# --- supervisors: community restructuring plans (issue 15) -------------------------------------

_LINE_SPLIT = re.compile(r"[\s,，、;；]+")


class PlanForm(forms.Form):
    """One form for the three kinds; which fields count depends on ``kind`` (the action checks)."""

    kind = forms.ChoiceField(label=gettext_lazy("调整类型"), choices=PlanKind.choices)
    sources = forms.CharField(
        label=gettext_lazy("调整的社区（区划代码）"),
        max_length=2000,
        help_text=gettext_lazy("拆分、更名填一个；合并填两个或以上，用空格或逗号分隔"),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    effective = forms.DateField(
        label=gettext_lazy("生效日期"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    targets = forms.CharField(
        label=gettext_lazy("拆分后的新社区"),
        required=False,
        max_length=4000,
        help_text=gettext_lazy("每行一个：代码 名称 [其他街道的代码]；第一行承接原社区本级的居民和在办事项"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    assignments = forms.CharField(
        label=gettext_lazy("居民小组、网格的去向"),
        required=False,
        max_length=8000,
        help_text=gettext_lazy("每行一个：居民小组或网格代码 新社区代码"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    code = forms.CharField(label=gettext_lazy("合并后的社区代码"), max_length=CODE_MAX, required=False)
    name = forms.CharField(label=gettext_lazy("新名称（合并或更名）"), max_length=NAME_MAX, required=False)
    document_ref = forms.CharField(label=gettext_lazy("批准文件文号"), max_length=120, required=False)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_sources(self) -> list[str]:
        return [c for c in _LINE_SPLIT.split(self.cleaned_data["sources"]) if c]

    def clean_targets(self) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = []
        for number, line in enumerate(self.cleaned_data["targets"].splitlines(), start=1):
            parts = [p for p in _LINE_SPLIT.split(line.strip()) if p]
            if not parts:
                continue
            if len(parts) not in (2, 3):
                raise forms.ValidationError(
                    _("第 %(n)d 行应为：代码 名称 [其他街道的代码]。") % {"n": number}, code="shape"
                )
            targets.append({"code": parts[0], "name": parts[1], "parent": parts[2] if len(parts) == 3 else "",
                            "children": [], "rest": not targets})
        return targets

    def clean_assignments(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for number, line in enumerate(self.cleaned_data["assignments"].splitlines(), start=1):
            parts = [p for p in _LINE_SPLIT.split(line.strip()) if p]
            if not parts:
                continue
            if len(parts) != 2:
                raise forms.ValidationError(
                    _("第 %(n)d 行应为：居民小组或网格代码 新社区代码。") % {"n": number}, code="shape"
                )
            pairs.append((parts[0], parts[1]))
        return pairs

    def draft(self) -> PlanDraft:
        data = self.cleaned_data
        targets = [dict(t, children=[]) for t in data["targets"]]
        by_code = {t["code"]: t for t in targets}
        for child, target_code in data["assignments"]:
            target = by_code.get(target_code)
            if target is None:
                raise PlaceError(
                    _("「%(code)s」不是本方案的新社区代码。") % {"code": target_code[:40]}, field="assignments"
                )
            target["children"].append(child)
        return PlanDraft(
            kind=data["kind"], source_codes=data["sources"], effective=data["effective"], targets=targets,
            code=data["code"], name=data["name"], note=data["note"], document_ref=data["document_ref"],
        )

    @staticmethod
    def initial_for(plan: RestructurePlan) -> dict[str, Any]:
        spec = plan.spec
        targets = spec.get("targets", [])
        return {
            "kind": plan.kind,
            "sources": " ".join(p.code for p in plan.sources.order_by("code")),
            "effective": plan.effective,
            "targets": "\n".join(" ".join(x for x in (t["code"], t["name"], t.get("parent", "")) if x)
                                 for t in sorted(targets, key=lambda t: not t.get("rest"))),
            "assignments": "\n".join(f"{c} {t['code']}" for t in targets for c in t.get("children", [])),
            "code": spec.get("code", ""),
            "name": spec.get("name", ""),
            "document_ref": plan.document_ref,
            "note": plan.note,
        }


_PLAN_FORM_FIELD = {"sources": "sources", "targets": "targets", "effective": "effective", "name": "name",
                    "code": "code", "kind": "kind", "assignments": "assignments"}


def _require(request: HttpRequest, check: Any) -> None:
    if not check(request.user):
        raise PermissionDenied(_("只有街道、区级督导和系统管理员可以拟定区划调整方案。"))


def _plan_or_404(request: HttpRequest, plan_id: int) -> RestructurePlan:
    try:
        return queries.access_plan(request.user, plan_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    _require(request, queries.may_draft_plans)
    return render(request, "places/plans.html", {"plans": queries.plans_for_user(request.user)[:200]})


def _plan_form_page(request: HttpRequest, plan: RestructurePlan | None) -> HttpResponse:
    initial = PlanForm.initial_for(plan) if plan is not None else {
        "kind": request.GET.get("kind", PlanKind.SPLIT)[:10], "sources": request.GET.get("sources", "")[:200]}
    form = PlanForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            draft = form.draft()
            if plan is None:
                saved = do_draft_place_plan(draft, actor=request.user)
                messages.success(request, _("方案已保存为草案，等待区级督导审核。"))
            else:
                saved = do_update_place_plan(plan, draft, actor=request.user)
                messages.success(request, _("方案已修改，需重新审批。"))
        except ActionError as exc:
            for name, message in exc.entries():
                name = _PLAN_FORM_FIELD.get(name, name)
                form.add_error(name if name in form.fields else None, message)
        else:
            return HttpResponseRedirect(reverse("places:plan_detail", args=[saved.pk]))
    status = 400 if request.method == "POST" else 200
    return render(request, "places/plan_form.html", {"form": form, "plan": plan}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    _require(request, queries.may_draft_plans)
    return _plan_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    if not plan.is_open:
        messages.error(request, _("方案已生效或已撤回，不能再修改。"))
        return HttpResponseRedirect(reverse("places:plan_detail", args=[plan.pk]))
    return _plan_form_page(request, plan)


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    return render(
        request,
        "places/plan_detail.html",
        {
            "plan": plan,
            "sources": list(plan.sources.order_by("code")),
            "preview": plan_preview(plan) if plan.is_open else [],
            "moved": queries.moved_rows(plan),
            "may_approve": plan.status == PlanStatus.DRAFT and queries.may_approve_plan(request.user, plan),
            "may_apply": plan.status == PlanStatus.APPROVED and plan.effective <= clock.localdate()
            and queries.may_approve_plan(request.user, plan),
        },
    )


def _plan_step(request: HttpRequest, plan_id: int, step: Any, done: str) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    try:
        step(plan)
    except ActionError as exc:
        messages.error(request, exc.message)
        response = render(request, "places/plan_detail.html", {
            "plan": plan, "sources": list(plan.sources.order_by("code")),
            "preview": plan_preview(plan) if plan.is_open else [], "error": exc.message,
        }, status=403 if exc.code == "not_allowed" else 409 if exc.code == "conflict" else 400)
        return response
    messages.success(request, done)
    return HttpResponseRedirect(reverse("places:plan_detail", args=[plan.pk]))


@login_required
@require_http_methods(["POST"])
def plan_approve(request: HttpRequest, plan_id: int) -> HttpResponse:
    version = request.POST.get("version", "")
    expected = int(version) if version.isdigit() and len(version) < 9 else None
    return _plan_step(request, plan_id, lambda p: do_approve_place_plan(p, actor=request.user, expected_version=expected),
                      _("方案已批准，将于生效日期自动实施。"))


@login_required
@require_http_methods(["POST"])
def plan_cancel(request: HttpRequest, plan_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500]
    return _plan_step(request, plan_id, lambda p: do_cancel_place_plan(p, actor=request.user, reason=reason),
                      _("方案已撤回。"))


@login_required
@require_http_methods(["POST"])
def plan_apply(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_step(request, plan_id, lambda p: do_apply_place_plan(p, actor=request.user), _("方案已实施。"))
