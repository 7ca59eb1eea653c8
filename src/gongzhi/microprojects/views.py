"""Pages of 民生微实事: the public index, a community's page and a project's page (no login;
reached from the front door), the resident's propose/support/comment/rate (phone-first), and
the community office's console (screening, agenda, outcome, funding, delivery, acceptance).

Views parse input, read through ``queries`` and write through ``actions``; an action's error
is shown to the user and nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from gongzhi.core.errors import ActionError
from gongzhi.microprojects import actions, queries
from gongzhi.microprojects.enums import FundingMethod, ProposalStatus
from gongzhi.microprojects.models import Proposal, ProposalPhoto


def _place_by_code(code: str) -> Any:
    from gongzhi.places.models import Place

    place = Place.objects.filter(code=code, kind="community").first()
    if place is None:
        raise Http404("没有找到该社区")
    return place


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


# ------------------------------------------------------------------------------------ public


def index(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    from gongzhi.places.models import Place

    rows = []
    for c in queries.communities_with_projects():
        place = Place.objects.get(pk=c["id"])
        rows.append({"place": place, "count": c["count"], "figures": queries.figures(place, year)})
    return render(request, "microprojects/index.html", {"rows": rows, "year": year})


def community(request: HttpRequest, code: str) -> HttpResponse:
    place = _place_by_code(code)
    year = _year(request)
    proposals = list(queries.public_proposals(place, year))
    return render(request, "microprojects/community.html", {
        "place": place, "year": year, "years": queries.years_of(place), "proposals": proposals,
        "figures": queries.figures(place, year), "budget": queries.budget(place, year),
        "funding": queries.funding_list(place, year),
        "may_propose": actions.lives_in(request.user, place),
        "may_manage": actions.may_manage(request.user, place.path) if request.user.is_authenticated else False,
    })


def detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    p = queries.public_proposal(proposal_id)
    user = request.user
    supported = user.is_authenticated and p.supports.filter(user=user).exists()
    spent = actions.spent(p)
    may_manage = bool(user.is_authenticated and actions.may_manage(user, p.place.path))
    return render(request, "microprojects/detail.html", {
        "p": p, "proposer": queries.masked_name(p.proposer_name),
        "co_proposers": [queries.masked_name(u.display_name or "") for u in p.co_proposers.all()],
        "supports": p.supports.count(), "supported": supported, "comments": p.comments.all(),
        "photos": p.photos.all(), "milestones": p.milestones.all(), "spending": p.spending.all(), "spent": spent,
        "left": (p.funded_amount - spent) if p.funded_amount is not None else None,
        "ratings": p.ratings.all(), "trail": queries.decision_trail(p), "merged": p.merged.all(),
        "may_support": user.is_authenticated and actions.lives_in(user, p.place) and p.status in (
            ProposalStatus.PROPOSED, ProposalStatus.ELIGIBLE, ProposalStatus.ON_AGENDA) and not supported,
        "may_rate": user.is_authenticated and p.status == ProposalStatus.ACCEPTED and actions.lives_in(user, p.place)
        and not p.ratings.filter(user=user).exists(),
        "may_manage": may_manage, "meetings": list(queries.open_meetings(p.place)) if may_manage else [],
    })


def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    row = ProposalPhoto.objects.filter(pk=photo_id).first()
    if row is None:
        raise Http404("没有找到该照片")
    path = actions.photo_path(row)
    if not path.is_file():
        raise Http404("没有找到该照片")
    response = FileResponse(path.open("rb"), content_type=row.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# ---------------------------------------------------------------------------------- resident


class ProposeForm(forms.Form):
    title = forms.CharField(label=_l("项目名称"), max_length=120)
    description = forms.CharField(label=_l("要做什么"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    reason = forms.CharField(label=_l("为什么要做"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                             required=False)
    location = forms.CharField(label=_l("地点"), max_length=160, required=False)
    lat = forms.CharField(label=_l("纬度（可选）"), required=False, max_length=20)
    lng = forms.CharField(label=_l("经度（可选）"), required=False, max_length=20)
    estimated_cost = forms.CharField(label=_l("估算费用（元）"), max_length=20,
                                     widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    # Photos come as a plain multi-file input (``photos``); actions.do_propose checks each one.


def _home_communities(user: Any) -> list[Any]:
    from gongzhi.places.models import Place

    paths = actions.home_paths(user)
    return [p for p in Place.objects.filter(kind="community", valid_to__isnull=True).order_by("path")
            if any(h.startswith(p.path) for h in paths)]


@login_required
def propose(request: HttpRequest) -> HttpResponse:
    homes = _home_communities(request.user)
    if not homes:
        return render(request, "microprojects/propose.html", {"homes": [], "form": None}, status=403)
    place = homes[0]
    form = ProposeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            p = actions.do_propose(place, actor=request.user, photos=request.FILES.getlist("photos"),
                                   **form.cleaned_data)
        except ActionError as exc:
            for field, message in exc.entries():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("项目已提交，社区将进行资格审核。"))
            return redirect("microprojects:detail", proposal_id=p.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "microprojects/propose.html", {"homes": homes, "place": place, "form": form}, status=status)


def _public_or_404(proposal_id: int) -> Proposal:
    return queries.public_proposal(proposal_id)


def _done(request: HttpRequest, p: Proposal, fn: Any, ok: str) -> HttpResponse:
    try:
        fn()
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("microprojects:detail", proposal_id=p.pk)


@login_required
@require_POST
def support(request: HttpRequest, proposal_id: int) -> HttpResponse:
    p = _public_or_404(proposal_id)
    return _done(request, p, lambda: actions.do_support(p, actor=request.user), _("感谢您的支持。"))


@login_required
@require_POST
def comment(request: HttpRequest, proposal_id: int) -> HttpResponse:
    p = _public_or_404(proposal_id)
    return _done(request, p, lambda: actions.do_comment(p, request.POST.get("text", ""), actor=request.user),
                 _("留言已发布。"))


@login_required
@require_POST
def rate(request: HttpRequest, proposal_id: int) -> HttpResponse:
    p = _public_or_404(proposal_id)
    return _done(request, p, lambda: actions.do_rate_project(p, request.POST.get("stars", ""), actor=request.user,
                                                            comment=request.POST.get("comment", "")),
                 _("感谢您的评价。"))


# ------------------------------------------------------------------------------------ office


@login_required
def office(request: HttpRequest) -> HttpResponse:
    places = queries.managed_places(request.user)
    if not places:
        raise Http404("没有可管理的社区")
    return render(request, "microprojects/office.html", {"places": places})


@login_required
def office_place(request: HttpRequest, code: str) -> HttpResponse:
    place = queries.access_place(request.user, _place_by_code(code).pk)
    year = _year(request)
    proposals = list(queries.proposals_for_user(request.user).filter(place=place, year=year)
                     .prefetch_related("supports"))
    return render(request, "microprojects/office_place.html", {
        "place": place, "year": year, "proposals": proposals, "budget": queries.budget(place, year),
        "funding": queries.funding_list(place, year), "meetings": list(queries.open_meetings(place)),
        "methods": FundingMethod.choices, "figures": queries.figures(place, year),
    })


@login_required
@require_POST
def office_fund(request: HttpRequest, code: str) -> HttpResponse:
    place = queries.access_place(request.user, _place_by_code(code).pk)
    year = _year(request)
    try:
        if request.POST.get("op") == "budget":
            actions.do_set_budget(place, year, actor=request.user, total=request.POST.get("total"),
                                  ceiling=request.POST.get("ceiling"), method=request.POST.get("method", ""))
            messages.success(request, _("年度预算已保存。"))
        else:
            actions.do_fund_year(place, year, actor=request.user, method=request.POST.get("method") or None)
            messages.success(request, _("年度立项清单已确定。"))
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect(f"{_office_url(place)}?year={year}")


def _office_url(place: Any) -> str:
    from django.urls import reverse

    return reverse("microprojects:office_place", kwargs={"code": place.code})


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise actions.MicroError(_("日期格式应为 YYYY-MM-DD。"), field="date") from None


@login_required
@require_POST
def office_action(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """One step of the office on one proposal; ``op`` names it."""
    p = queries.access_proposal(request.user, proposal_id)
    post, user = request.POST, request.user
    op = post.get("op", "")
    try:
        if op == "screen":
            actions.do_screen_proposal(p, actor=user, eligible=post.get("eligible") == "1", reason=post.get("reason", ""))
        elif op == "merge":
            into = queries.access_proposal(user, int(post.get("into") or 0))
            actions.do_merge_proposals(p, into, actor=user, reason=post.get("reason", ""))
        elif op == "agenda":
            meeting = queries.open_meetings(p.place).filter(pk=int(post.get("meeting") or 0)).first()
            if meeting is None:
                raise actions.MicroError(_("请选择一次尚未开始的议事会会议。"), field="meeting")
            actions.do_put_on_agenda(p, meeting, actor=user, motion_text=post.get("motion_text", ""))
        elif op == "outcome":
            actions.do_record_council_outcome(p, actor=user, motion_id=post.get("motion_id", ""))
        elif op == "implementer":
            actions.do_assign_implementer(p, post.get("implementer", ""), actor=user, due_on=_date(post.get("due_on")))
        elif op == "milestone":
            actions.do_record_milestone(p, post.get("title", ""), actor=user, progress=post.get("progress", ""),
                                        done_on=_date(post.get("done_on")), note=post.get("note", ""))
        elif op == "spending":
            actions.do_record_spending(p, post.get("amount", ""), post.get("description", ""), actor=user,
                                       spent_on=_date(post.get("spent_on")))
        elif op == "accept":
            actions.do_accept_project(p, actor=user, note=post.get("note", ""))
        else:
            raise actions.MicroError(_("未知的操作。"), field="op")
    except (ValueError, ActionError) as exc:
        messages.error(request, getattr(exc, "message", _("输入有误。")))
    else:
        messages.success(request, _("已办理。"))
    return redirect("microprojects:detail", proposal_id=p.pk)
