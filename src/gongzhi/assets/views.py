"""Pages of the collective-asset supervision console and the public trading pages.

One console for the three levels (a company's manager sees their community, a subdistrict
supervisor the subdistrict, the district everything under it): ``queries`` scopes each list.
Pages call the same actions as the API; an object outside the user's scope answers 404, bad input
re-shows the form with 400, a lease the trading rule refuses answers 409 with the reason.
Public pages (listings, notice periods, result notices) need no login.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.assets import actions, queries
from gongzhi.assets.enums import (
    AlertKind,
    AlertStatus,
    BidMode,
    CounterpartyKind,
    DealStatus,
    FeedSourceChoice,
)
from gongzhi.assets.models import Appraisal, Asset, Registration
from gongzhi.core import clock
from gongzhi.core.errors import ActionError, NotAllowedError, NotFoundError


def _get(fetch: Any, *args: Any) -> Any:
    try:
        return fetch(*args)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _require_reader(request: HttpRequest) -> None:
    from gongzhi.accounts.permissions import has_permission

    if not has_permission(request.user, "asset.read"):
        raise PermissionDenied(_("无权查看集体资产监管"))


def _show_error(form: forms.Form, exc: ActionError) -> None:
    for name, message in exc.entries():
        form.add_error(name if name in form.fields else None, message)


@login_required
def console(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    companies = list(queries.companies_for_user(request.user)[:200])
    alerts = queries.alerts_for_user(request.user)
    return render(request, "assets/console.html", {
        "figures": queries.figures_for(companies),
        "alerts": list(alerts[:10]),
        "alert_count": alerts.count(),
        "deals": list(queries.deals_for_user(request.user).exclude(
            status__in=[DealStatus.CONTRACTED, DealStatus.FAILED])[:20]),
        "rent_by_use": queries.rent_by_use(queries.leases_for_user(request.user)),
        "trend": queries.rent_trend(request.user)[:40],
        "may_supervise": queries.may_supervise(request.user),
    })


@login_required
def company(request: HttpRequest, company_id: int) -> HttpResponse:
    firm = _get(queries.access_company, request.user, company_id)
    leases = list(queries.leases_for_user(request.user).filter(company=firm)[:500])
    owed = queries.arrears_by_lease(leases)
    for lease in leases:
        lease.owed = owed.get(lease.pk)  # type: ignore[attr-defined]
    return render(request, "assets/company.html", {
        "company": firm,
        "assets": queries.assets_of(firm),
        "leases": leases,
        "deals": list(queries.deals_for_user(request.user).filter(company=firm)),
        "alerts": list(queries.alerts_for_user(request.user).filter(company=firm)),
        "may_write": queries.may_write(request.user, firm),
        "may_reveal": queries.may_reveal(request.user, firm),
        "figures": queries.figures_for([firm])[0],
    })


class LeaseForm(forms.Form):
    asset = forms.ModelChoiceField(label=gettext_lazy("资产"), queryset=Asset.objects.none())
    contract_no = forms.CharField(label=gettext_lazy("合同编号"), max_length=60)
    counterparty_kind = forms.ChoiceField(label=gettext_lazy("承租方类型"), choices=CounterpartyKind.choices)
    counterparty_name = forms.CharField(label=gettext_lazy("承租方名称"), max_length=120)
    counterparty_number = forms.CharField(label=gettext_lazy("统一社会信用代码或身份证件号码"), max_length=30,
                                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    area = forms.DecimalField(label=gettext_lazy("面积（平方米）"), max_digits=12, decimal_places=2, min_value=0)
    monthly_rent = forms.DecimalField(label=gettext_lazy("月租金（元）"), max_digits=14, decimal_places=2, min_value=0)
    deposit = forms.DecimalField(label=gettext_lazy("押金（元）"), max_digits=14, decimal_places=2, min_value=0,
                                 required=False)
    signed_on = forms.DateField(label=gettext_lazy("签订日期"), widget=forms.DateInput(attrs={"type": "date"}))
    starts_on = forms.DateField(label=gettext_lazy("租期开始"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("租期结束"), widget=forms.DateInput(attrs={"type": "date"}))


@login_required
@require_http_methods(["GET", "POST"])
def lease_new(request: HttpRequest, company_id: int) -> HttpResponse:
    firm = _get(queries.access_company, request.user, company_id)
    if not queries.may_write(request.user, firm):
        raise PermissionDenied(_("无权登记合同"))
    form = LeaseForm(request.POST if request.method == "POST" else None)
    form.fields["asset"].queryset = Asset.objects.filter(company=firm).order_by("code")  # type: ignore[attr-defined]
    status = 200
    refused = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d: dict[str, Any] = form.cleaned_data
            try:
                actions.do_register_lease(
                    firm, d["asset"], counterparty_kind=d["counterparty_kind"],
                    counterparty_number=d["counterparty_number"], counterparty_name=d["counterparty_name"],
                    area=d["area"], monthly_rent=d["monthly_rent"], deposit=d["deposit"] or "0",
                    signed_on=d["signed_on"], starts_on=d["starts_on"], ends_on=d["ends_on"],
                    contract_no=d["contract_no"], actor=request.user)
            except actions.MustTradeOnPlatform as exc:
                refused, status = exc.message, 409
            except ActionError as exc:
                _show_error(form, exc)
                status = exc.status if exc.status in (403, 409) else 400
            else:
                messages.success(request, _("合同已登记。"))
                return HttpResponseRedirect(reverse("assets:company", args=[firm.pk]))
    return render(request, "assets/lease_new.html", {"company": firm, "form": form, "refused": refused},
                  status=status)


class DealForm(forms.Form):
    asset = forms.ModelChoiceField(label=gettext_lazy("资产"), queryset=Asset.objects.none())
    title = forms.CharField(label=gettext_lazy("项目名称"), max_length=160)
    area = forms.DecimalField(label=gettext_lazy("出租面积（平方米）"), max_digits=12, decimal_places=2, min_value=0)
    term_months = forms.IntegerField(label=gettext_lazy("租期（月）"), min_value=1, max_value=240)
    mode = forms.ChoiceField(label=gettext_lazy("交易方式"), choices=BidMode.choices)
    decision_ref = forms.CharField(label=gettext_lazy("决议文号"), max_length=120,
                                   help_text=gettext_lazy("董事会或股东大会决议的文号，会议纪要存于议事会系统"))
    decided_on = forms.DateField(label=gettext_lazy("决议日期"), widget=forms.DateInput(attrs={"type": "date"}))


@login_required
@require_http_methods(["GET", "POST"])
def deal_new(request: HttpRequest, company_id: int) -> HttpResponse:
    """Step 1 of trading: the company's decision opens a deal (a refused lease is sent here)."""
    firm = _get(queries.access_company, request.user, company_id)
    if not queries.may_write(request.user, firm):
        raise PermissionDenied(_("无权进行此操作"))
    initial = {k: request.GET.get(k, "")[:160] for k in ("asset", "area", "title")}
    form = DealForm(request.POST if request.method == "POST" else None, initial=initial)
    form.fields["asset"].queryset = Asset.objects.filter(company=firm).order_by("code")  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d: dict[str, Any] = form.cleaned_data
            try:
                item = actions.do_open_deal(firm, d["asset"], d["title"], d["area"], d["term_months"],
                                            decision_ref=d["decision_ref"], decided_on=d["decided_on"],
                                            mode=d["mode"], actor=request.user)
            except NotAllowedError as exc:
                raise PermissionDenied(exc.message) from exc
            except ActionError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, _("已立项，请录入评估结果。"))
                return HttpResponseRedirect(reverse("assets:deal", args=[item.pk]))
    return render(request, "assets/deal_new.html", {"company": firm, "form": form}, status=status)


@login_required
@require_POST
def lease_reveal(request: HttpRequest, company_id: int, lease_id: int) -> HttpResponse:
    """A counterparty's full ID number, for a stated reason (audited)."""
    firm = _get(queries.access_company, request.user, company_id)
    lease = queries.leases_for_user(request.user).filter(company=firm, pk=lease_id).first()
    if lease is None:
        raise Http404(_("不存在或不在管辖范围内"))
    try:
        number = actions.do_reveal_counterparty_number(lease, request.POST.get("reason", ""), actor=request.user)
    except NotAllowedError as exc:
        raise PermissionDenied(exc.message) from exc
    except ActionError as exc:
        return render(request, "assets/reveal.html", {"company": firm, "lease": lease, "error": exc.message},
                      status=400 if exc.status == 422 else exc.status)
    response = render(request, "assets/reveal.html", {"company": firm, "lease": lease, "number": number})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def deal(request: HttpRequest, deal_id: int) -> HttpResponse:
    item = _get(queries.access_deal, request.user, deal_id)
    return render(request, "assets/deal.html", {
        "deal": item,
        "registrations": queries.registrations_of(item),
        "bids": queries.deal_bids(item, reveal_sealed=False),
        "appraisals": list(Appraisal.objects.filter(asset=item.asset)),
        "may_write": queries.may_write(request.user, item.company),
        "winner": queries.public_winner(item),
        "resolution": queries.deal_resolution(item),
        "today": clock.localdate(),
    })


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ActionError(_("日期格式应为 YYYY-MM-DD"), field=field) from exc


@login_required
@require_POST
def deal_step(request: HttpRequest, deal_id: int) -> HttpResponse:
    """One step of the trading lifecycle, named by ``step`` (the deal page's forms)."""
    item = _get(queries.access_deal, request.user, deal_id)
    if not queries.may_write(request.user, item.company):
        raise PermissionDenied(_("无权进行此操作"))
    post = request.POST
    step = post.get("step", "")
    user = request.user
    try:
        if step == "resolution":
            raw = post.get("meeting", "").strip()
            if not raw.isdigit() or len(raw) > 10:
                raise ActionError(_("会议编号不正确"), field="meeting")
            actions.do_attach_resolution(item, int(raw), actor=user)
        elif step == "appraise":
            with transaction.atomic():  # a new appraisal is kept only if it is attached
                if post.get("appraisal"):
                    appraisal = Appraisal.objects.filter(asset=item.asset, pk=post.get("appraisal") or 0).first()
                else:
                    appraisal = actions.do_record_appraisal(
                        item.asset, _date(post.get("appraised_on", ""), "appraised_on"), post.get("value", ""),
                        post.get("appraiser", ""), actor=user, report_ref=post.get("report_ref", ""))
                if appraisal is None:
                    raise ActionError(_("请选择评估报告"), field="appraisal")
                actions.do_attach_appraisal(item, appraisal, actor=user)
        elif step == "price":
            actions.do_set_reserve(item, post.get("reserve_monthly_rent", ""), post.get("deposit", ""), actor=user,
                                   min_increment=post.get("min_increment") or "100")
        elif step == "list":
            actions.do_list_deal(item, _date(post.get("listed_on", ""), "listed_on"), actor=user)
        elif step == "register":
            actions.do_register_bidder(item, counterparty_kind=post.get("counterparty_kind", ""),
                                       counterparty_number=post.get("counterparty_number", ""),
                                       counterparty_name=post.get("counterparty_name", ""),
                                       deposit_paid=post.get("deposit_paid", ""), actor=user)
        elif step == "bid":
            reg = Registration.objects.filter(deal=item, pk=post.get("registration") or 0).first()
            if reg is None:
                raise ActionError(_("请选择已报名的竞买人"), field="registration")
            actions.do_place_bid(item, reg, post.get("monthly_rent", ""), idempotency_key=post.get("idempotency_key", ""),
                                 actor=user)
        elif step == "award":
            actions.do_award_deal(item, actor=user)
        elif step == "notice":
            actions.do_publish_result(item, actor=user)
        elif step == "contract":
            actions.do_generate_contract(item, contract_no=post.get("contract_no", ""),
                                         starts_on=_date(post.get("starts_on", ""), "starts_on"), actor=user)
        else:
            raise ActionError(_("未知的交易步骤"), field="step")
    except NotAllowedError as exc:
        raise PermissionDenied(exc.message) from exc
    except ActionError as exc:
        context = {
            "deal": item, "registrations": queries.registrations_of(item),
            "bids": queries.deal_bids(item, reveal_sealed=False),
            "appraisals": list(Appraisal.objects.filter(asset=item.asset)), "may_write": True,
            "winner": queries.public_winner(item), "today": clock.localdate(),
            "step_errors": [m for _f, m in exc.entries()],
        }
        return render(request, "assets/deal.html", context, status=400 if exc.status == 422 else exc.status)
    messages.success(request, _("已完成：%(s)s") % {"s": DealStatus(item.status).label})
    return HttpResponseRedirect(reverse("assets:deal", args=[item.pk]))


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    status = request.GET.get("status", AlertStatus.OPEN)
    if status not in AlertStatus.values and status != "all":
        status = AlertStatus.OPEN
    qs = queries.alerts_for_user(request.user, status=None if status == "all" else status)
    kind = request.GET.get("kind", "")
    if kind in AlertKind.values:
        qs = qs.filter(kind=kind)
    return render(request, "assets/alerts.html", {
        "alerts": list(qs[:300]), "status": status, "kind": kind, "kinds": AlertKind.choices,
        "statuses": AlertStatus.choices})


@login_required
@require_POST
def alert_close(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _get(queries.access_alert, request.user, alert_id)
    if not queries.may_close_alert(request.user, alert):
        raise PermissionDenied(_("无权办结此预警"))
    try:
        actions.do_close_alert(alert, request.POST.get("note", ""), actor=request.user)
    except NotAllowedError as exc:
        raise PermissionDenied(exc.message) from exc
    except ActionError as exc:
        messages.error(request, exc.message)
        return render(request, "assets/alerts.html", {
            "alerts": [alert], "status": "all", "kind": "", "kinds": AlertKind.choices,
            "statuses": AlertStatus.choices, "error": exc.message}, status=400 if exc.status == 422 else exc.status)
    messages.success(request, _("预警已办结。"))
    return HttpResponseRedirect(reverse("assets:alerts"))


# --- public ---------------------------------------------------------------------------------------


def public_deals(request: HttpRequest) -> HttpResponse:
    deals = list(queries.public_deals()[:100])
    today = clock.localdate()
    return render(request, "assets/public_deals.html", {
        "listed": [d for d in deals if d.status == DealStatus.LISTED],
        "results": [d for d in deals if d.status in queries.RESULT_STATUSES],
        "today": today,
    })


def public_deal(request: HttpRequest, deal_id: int) -> HttpResponse:
    item = _get(queries.public_deal, deal_id)
    return render(request, "assets/public_deal.html", {
        "deal": item, "winner": queries.public_winner(item), "bidders": queries.public_bid_count(item),
        "sealed": item.mode == BidMode.SEALED, "today": clock.localdate(),
    })


# --- feeds from other systems (supervisors) -------------------------------------------------------


class FeedUploadForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("来源系统"), choices=FeedSourceChoice.choices)
    file = forms.FileField(label=gettext_lazy("数据文件"))


def _require_supervisor(request: HttpRequest) -> None:
    if not queries.may_supervise(request.user):
        raise PermissionDenied(_("无权管理外部数据导入"))


@login_required
@require_http_methods(["GET", "POST"])
def feeds(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    status = 200
    if request.method == "POST":
        form = FeedUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > actions.MAX_FEED_BYTES:
                form.add_error("file", _("文件过大"))
            else:
                try:
                    run = actions.do_import_feed(form.cleaned_data["source"], upload.read(), actor=request.user,
                                                 name=upload.name or "")
                except NotAllowedError as exc:
                    raise PermissionDenied(exc.message) from exc
                except ActionError as exc:
                    _show_error(form, exc)
                    status = 400 if exc.status == 422 else exc.status
                else:
                    if run.status == "failed":
                        messages.error(request, _("导入失败：%(r)s") % {"r": run.fatal})
                    else:
                        messages.success(request, _("已导入并完成核对。"))
                    return HttpResponseRedirect(reverse("assets:feed_run", args=[run.pk]))
        if not form.errors:
            form.add_error(None, _("请检查填写的内容"))
        status = status if status != 200 else 400
    else:
        form = FeedUploadForm()
    return render(request, "assets/feeds.html", {"form": form, "runs": list(queries.feed_runs_for(request.user)[:100])},
                  status=status)


@login_required
def feed_run(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_supervisor(request)
    run = _get(queries.access_feed_run, request.user, run_id)
    return render(request, "assets/feed_run.html", {"run": run})
