"""Forms of the service-hall pages: they parse and render input; the rules live in the actions.

The application form is built from the chosen items' ``form_schema`` (data, not code). Its
fields are all optional *here* on purpose: ``do_submit_application`` validates the schema once
for every interface (window, portal, API), and its ``FormInvalid`` errors are put back next to
each field, so a rule is never written twice (the flaw STYLE.md warns about).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core.i18n import localized, localized_choice, localized_text, plain
from gongzhi.services.enums import DeliveryMethod, MaterialKind, ReviewLevel

FORM_PREFIX = "form"  # schema names cannot clash with the page's own inputs (number, items…)
FILE_PREFIX = "file-"
DOC_PREFIX = "doc-"
PENDING_PREFIX = "pending-"  # a kept scan's token (services/uploads.py)


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("证件号码或统一社会信用代码"),
        max_length=40,
        help_text=_("居民身份证、港澳台居民居住证号码，或单位的统一社会信用代码（一号办）"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "number"}),
    )


def merged_schema(items: list[Any]) -> list[dict[str, Any]]:
    """The union of the items' form fields, each asked once (a bundle shares its fields)."""
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        for spec in item.form_schema or []:
            seen.setdefault(spec["name"], spec)
    return list(seen.values())


_BOOL_CHOICES = [("", _("请选择")), ("true", _("是")), ("false", _("否"))]


def _schema_field(spec: dict[str, Any], derived: Any = None, hint: str = "") -> forms.Field:
    if derived is not None:
        # Known from the applicant's ID number: shown, not asked. A disabled field is never
        # read from the POST body; intake takes the value from the number itself.
        return _mark(forms.CharField(
            label=spec.get("label") or spec["name"], required=False, disabled=True, initial=str(derived),
            help_text=_("按申请人证件号码自动填写，无需填写"),
            widget=forms.TextInput(attrs={"readonly": True, "class": "derived"}),
        ), spec)
    field = _plain_field(spec)
    if hint:
        field.help_text = hint
    return field


def _plain_field(spec: dict[str, Any]) -> forms.Field:
    kind = spec.get("type", "text")
    label = localized_text(spec, "label") if spec.get("label") else spec["name"]
    attrs: dict[str, Any] = {}
    help_text: Any = localized_text(spec, "help") if spec.get("help") else ""
    if spec.get("required"):
        # Only announced (aria-required): the server decides, so a browser never blocks a
        # submission with a message in its own words and language.
        attrs["aria-required"] = "true"
    widget: forms.Widget
    if kind == "textarea":
        widget = forms.Textarea(attrs={**attrs, "rows": 4})
    elif kind == "int":
        widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric"})
        help_text = help_text or _range_help(spec)
    elif kind == "decimal":
        widget = forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
        help_text = help_text or _range_help(spec)
    elif kind == "date":
        widget = forms.DateInput(attrs={**attrs, "type": "date"})
        help_text = help_text or _("格式：年-月-日，例如 2026-11-26")
    elif kind == "choice":
        # The value stays the canonical choice; the text shown is the reader's language.
        choices = [("", _("请选择"))] + [(str(c), plain(localized_choice(spec, c))) for c in spec.get("choices", [])]
        return _mark(forms.ChoiceField(label=label, required=False, choices=choices, help_text=help_text,
                                       widget=forms.Select(attrs=attrs)), spec)
    elif kind == "bool":
        return _mark(forms.ChoiceField(label=label, required=False, choices=_BOOL_CHOICES, help_text=help_text,
                                       widget=forms.Select(attrs=attrs)), spec)
    elif kind == "phone":
        widget = forms.TextInput(attrs={**attrs, "type": "tel", "autocomplete": "tel", "inputmode": "tel"})
        help_text = help_text or _("手机号或座机号，例如 13812345678 或 0755-12345678")
    else:
        if spec.get("max_length"):
            attrs["maxlength"] = str(spec["max_length"])
        widget = forms.TextInput(attrs=attrs)
    # CharField keeps the raw text: the schema validator converts and checks it.
    return _mark(forms.CharField(label=label, required=False, help_text=help_text, widget=widget, strip=True), spec)


def _mark(f: forms.Field, spec: dict[str, Any]) -> forms.Field:
    f.schema_required = bool(spec.get("required"))  # type: ignore[attr-defined]
    return f


def _range_help(spec: dict[str, Any]) -> str:
    if "min" in spec and "max" in spec:
        return str(_("取值范围 %(min)s–%(max)s") % {"min": spec["min"], "max": spec["max"]})
    if "min" in spec:
        return str(_("不小于 %(min)s") % {"min": spec["min"]})
    if "max" in spec:
        return str(_("不大于 %(max)s") % {"max": spec["max"]})
    return ""


def schema_form(
    schema: list[dict[str, Any]], data: Any = None, *, derived: dict[str, Any] | None = None,
    record: dict[str, str] | None = None,
) -> forms.Form:
    """A Django form with one field per schema entry (names prefixed ``form-``).

    ``derived``: field name → value read from the applicant's number (shown read-only).
    ``record``: ``person.phone`` (masked) / ``person.address`` from the person record — the
    address is offered as the initial value, the phone (a personal number) only named in the
    help text, and intake fills a blank one from the record.
    """
    derived = derived or {}
    record = record or {}
    form = forms.Form(data=data, prefix=FORM_PREFIX)
    for spec in schema:
        source, hint = spec.get("from", ""), ""
        if source == "person.phone" and record.get(source):
            hint = str(_("留空则使用登记的联系电话 %(phone)s") % {"phone": record[source]})
        form.fields[spec["name"]] = _schema_field(spec, derived.get(spec["name"]), hint)
        if source == "person.address" and record.get(source):
            form.fields[spec["name"]].initial = record[source]
    return form


def schema_values(form: forms.Form) -> dict[str, Any]:
    """The raw values the applicant typed, by schema name; blanks dropped (the schema decides).
    Fields shown read-only (taken from the identity) are not read: the server knows them."""
    out: dict[str, Any] = {}
    for name, f in form.fields.items():
        if f.disabled:
            continue
        raw = form.data.get(form.add_prefix(name), "")
        if isinstance(raw, str):
            raw = raw.strip()
        if raw != "":
            out[name] = raw
    return out


def put_errors(form: forms.Form, errors: list[tuple[str, str]]) -> list[str]:
    """Attach ``FormInvalid`` errors to their fields; return those that name no field."""
    form.is_valid()  # populates cleaned_data so add_error can be used
    loose: list[str] = []
    for name, message in errors:
        if name in form.fields:
            if message not in form.errors.get(name, []):
                form.add_error(name, message)
        else:
            loose.append(message)
    return loose


@dataclass
class MaterialRow:
    """One material as the page shows it: reused from the wallet, or to upload."""

    key: str
    name: str
    kind: str
    items: list[str] = field(default_factory=list)
    wallet_doc: Any = None
    commitment_ok: bool = False
    error: str = ""
    doc_type: str = ""
    choices: list[Any] = field(default_factory=list)  # wallet documents of this material's type
    chosen: int | None = None  # the one picked before an error round-trip
    pending_token: str = ""  # a scan kept across an error round-trip (services/uploads.py)
    pending_name: str = ""

    @property
    def secondary(self) -> bool:
        return self.kind == MaterialKind.SECONDARY

    @property
    def input_name(self) -> str:
        return FILE_PREFIX + self.key

    @property
    def doc_input_name(self) -> str:
        return DOC_PREFIX + self.key

    @property
    def pending_input_name(self) -> str:
        return PENDING_PREFIX + self.key


def material_rows(
    items: list[Any], wallet: list[Any], *, chosen: dict[str, int] | None = None,
    pending: dict[str, tuple[str, str]] | None = None,
) -> list[MaterialRow]:
    """Every material of the chosen items, each once, marked with the wallet document that
    will be reused for it (the same rule as the action: same key, or same document type).

    The wallet offers for a material only documents of its type (a material without one takes
    "other" documents), as intake accepts only those. ``chosen`` (material key → document id)
    and ``pending`` (material key → (token, file name)) bring back what an error round-trip
    would otherwise lose.
    """
    by_type: dict[str, Any] = {}
    for doc in wallet:
        by_type.setdefault(doc.doc_type, doc)
    chosen = chosen or {}
    pending = pending or {}
    rows: dict[str, MaterialRow] = {}
    for item in items:
        for mat in item.materials.all():
            row = rows.get(mat.key)
            if row is None:
                doc_type = mat.doc_type or "other"
                row = rows[mat.key] = MaterialRow(
                    key=mat.key, name=localized(mat), kind=mat.kind,
                    wallet_doc=by_type.get(mat.doc_type) if mat.doc_type else None,
                    commitment_ok=bool(mat.commitment_ok and item.commitment_allowed),
                    doc_type=doc_type, choices=[d for d in wallet if d.doc_type == doc_type],
                )
                if any(d.pk == chosen.get(mat.key) for d in row.choices):
                    row.chosen = chosen[mat.key]
                if mat.key in pending:
                    row.pending_token, row.pending_name = pending[mat.key]
            if mat.kind == MaterialKind.MANDATORY:
                row.kind = MaterialKind.MANDATORY  # mandatory for one item → mandatory
            row.items.append(localized(item))
    return list(rows.values())


class ReviewForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("您对本次办事的评价"),
        choices=ReviewLevel.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择评价等级"), "invalid_choice": _("评价等级应为五级之一（非常满意至非常不满意）")},
    )
    comment = forms.CharField(label=_("意见或建议（选填）"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class DecideForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("审批意见"), choices=[("approve", _("同意")), ("reject", _("不同意"))], widget=forms.RadioSelect,
        error_messages={"required": _("请选择同意或不同意")},
    )
    reason = forms.CharField(label=_("理由"), required=False, max_length=2000,
                             help_text=_("不同意（不予许可）时，或仍有容缺材料未补交而同意时，必须说明理由"),
                             widget=forms.Textarea(attrs={"rows": 3}))


class SupplementForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    items = forms.CharField(
        label=_("需补正的材料（每行一项）"),
        help_text=_("一次性告知：把全部需要补正的内容一次列明，每行一项"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请列明需补正的全部材料，每行一项")},
    )
    reason = forms.CharField(label=_("补正原因（选填）"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def item_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]


class DeliverForm(forms.Form):
    """送达. Whether an address is needed (邮寄送达) is the action's rule; its error lands on the field."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    method = forms.ChoiceField(
        label=_("送达方式"), choices=[("", _("请选择送达方式")), *DeliveryMethod.choices],
        help_text=_("电子送达：证照已存入申请人证照库；窗口领取：申请人到窗口领取（计到场一次）；邮寄送达：寄往下方地址"),
        error_messages={"required": _("请选择送达方式"), "invalid_choice": _("请选择送达方式")},
    )
    address = forms.CharField(label=_("收件地址"), required=False, max_length=200,
                              help_text=_("邮寄送达时必填"),
                              error_messages={"max_length": _("收件地址不能超过 200 个字")})


class TrackForm(forms.Form):
    number = forms.CharField(label=_("申请编号或办件编号"), max_length=24,
                             help_text=_("受理回执或确认页上的任一编号"),
                             widget=forms.TextInput(attrs={"autocomplete": "off", "class": "number"}))
    tail = forms.CharField(
        label=_("申请人证件号码后四位"), min_length=4, max_length=4,
        help_text=_("身份证号码或统一社会信用代码的最后四位"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "number", "size": "6"}),
    )
