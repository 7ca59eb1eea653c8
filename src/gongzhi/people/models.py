"""一号办: one identity per person (ID / permit number) and per organisation (USCC).

Personal numbers are stored three ways (DESIGN.md §3): AES-GCM ciphertext (``*_cipher``), a keyed
blind index for exact lookup (``*_bidx``), and the masked form for display (``*_masked``). The
plain number is only ever produced by an audited reveal action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.people.enums import ConsentPurpose, DocumentType, NumberKind, OrgKind


class Person(models.Model):
    number_kind = models.CharField(max_length=24, choices=NumberKind.choices)
    number_cipher = models.TextField()
    number_bidx = models.CharField(max_length=64, unique=True)
    number_masked = models.CharField(max_length=24)
    name = models.CharField(_("姓名"), max_length=60, db_index=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, blank=True, choices=[("M", _("男")), ("F", _("女"))])
    phone_cipher = models.TextField(blank=True)
    phone_bidx = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    home_place = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="residents"
    )
    address = models.CharField(_("住址"), max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    bad_credit = models.BooleanField(default=False, help_text=_("失信记录（不适用容缺受理）"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")

    def __str__(self) -> str:
        return f"{self.name} {self.number_masked}"


class Organisation(models.Model):
    # A USCC is public registration data (printed on every business licence): stored in clear.
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=120, db_index=True)
    kind = models.CharField(max_length=24, choices=OrgKind.choices, default=OrgKind.ENTERPRISE)
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="organisations")
    address = models.CharField(max_length=200, blank=True)
    legal_representative = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="represented_organisations"
    )
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="organisations")
    bad_credit = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("法人和其他组织")
        verbose_name_plural = _("法人和其他组织")

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """A document in a wallet (证照/材料库): reused by every later application."""

    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    doc_type = models.CharField(max_length=24, choices=DocumentType.choices)
    title = models.CharField(max_length=120)
    issuer = models.CharField(max_length=120, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    # Stored under a random name chosen by people.actions (never the client's file name, which
    # may contain personal data or path tricks); the original name is kept for the download.
    file = models.FileField(upload_to="wallet/%Y/%m/", blank=True, max_length=200)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=40, blank=True, help_text=_("上传 / 窗口扫描 / 办理结果"))
    uploaded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False, organisation__isnull=True)
                | models.Q(person__isnull=True, organisation__isnull=False),
                name="document_has_one_owner",
            )
        ]
        indexes = [models.Index(fields=["doc_type", "expires_on"], name="document_type_expiry_idx")]
        verbose_name = _("证照材料")
        verbose_name_plural = _("证照材料")

    def __str__(self) -> str:
        return self.title


class Consent(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=24, choices=ConsentPurpose.choices)
    text_version = models.CharField(max_length=20, default="v1")
    granted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True, help_text=_("窗口 / 网上 / 现场"))

    class Meta:
        constraints = [
            # At most one standing consent per purpose: granting twice is idempotent.
            models.UniqueConstraint(
                fields=["person", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_purpose",
            )
        ]
        verbose_name = _("授权同意记录")
        verbose_name_plural = _("授权同意记录")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.person_id}"


class NumberLookup(models.Model):
    """One lookup of a person by full number: the lookup log behind the quota and the audit.

    The quota (``people.actions.check_lookup_quota``) counts *distinct* numbers a user looked up
    in a sliding window, so a clerk going through the window desk's several steps for the same
    applicant spends one unit, while someone trying numbers in a row is stopped. A table, not the
    Django cache: in the embedded mode the cache is per-process memory, so each web worker would
    count on its own (and a restart would forget); the database is shared by every process and
    machine in both modes. The keyed blind index, not the number, is kept (as in
    ``Person.number_bidx``), with the masked form for the audit event.

    Each row becomes a ``person.lookup`` audit event (dated when the lookup happened) when the
    worker folds the log into the audit chain (``actions.fold_lookups_into_audit``), as services
    fold notifications and figures: a lookup on the intake hot path writes one small row, and a
    refused submission leaves its domain data exactly as it was while the lookup it made is
    still audited. Rows are deleted once audited and older than the longest quota window.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number_bidx = models.CharField(max_length=64)
    number_masked = models.CharField(max_length=24)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    via = models.CharField(max_length=20, default="lookup")
    at = models.DateTimeField()
    audited = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "at"], name="people_lookup_user_at_idx"),
            # The fold looks for rows not yet audited: a partial index keeps that O(pending).
            models.Index(fields=["id"], name="people_lookup_pending_idx", condition=models.Q(audited=False)),
            # ... and deletes audited rows past the longest window.
            models.Index(fields=["at"], name="people_lookup_audited_at_idx", condition=models.Q(audited=True)),
        ]
        permissions = [
            # For other systems' accounts (API tokens) that submit many applicants an hour: no
            # quota, but every lookup is still logged and audited.
            ("unlimited_number_lookup", _("按证件号码查询不受次数限制（对接系统用，仍逐次留痕）")),
        ]
        verbose_name = _("按号码查询记录")
        verbose_name_plural = _("按号码查询记录")

    def __str__(self) -> str:
        return f"{self.user_id} {self.number_masked} @ {self.at:%Y-%m-%d %H:%M:%S}"
