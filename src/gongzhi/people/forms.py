"""Forms of the people screens; validation beyond field shapes lives in ``actions``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.people.enums import DocumentType


class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("材料类型"), choices=DocumentType.choices)
    title = forms.CharField(label=_("名称"), max_length=120)
    file = forms.FileField(label=_("文件（PDF、JPEG、PNG）"), required=False)
    issuer = forms.CharField(label=_("签发机关"), max_length=120, required=False)
    issued_on = forms.DateField(label=_("签发日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("number", _("证件号码")), ("phone", _("电话"))])
    reason = forms.CharField(label=_("查看原因"), max_length=200, required=False)
