"""Users, their roles with a place scope, departments, and API tokens for other systems."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.enums import IdentityStatus, Role


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    # The mobile number on record, where password-reset codes go: encrypted, with a masked copy
    # for screens (DESIGN.md §3). Set only through accounts.actions.do_set_phone.
    phone_cipher = models.TextField(blank=True, default="")
    phone_masked = models.CharField(_("手机号"), max_length=20, blank=True, default="")
    # Bumped (in the same transaction) whenever the user's roles change, so a process that keeps
    # the roles of an API token's user can tell from the token's own row that they are stale.
    roles_version = models.PositiveIntegerField(default=0)
    preferred_language = models.CharField(max_length=10, blank=True)
    # Self-registered accounts start unverified; every other account is verified when it is made
    # (accounts.enums.IdentityStatus). Changed only by accounts.actions.do_verify_identity.
    identity_status = models.CharField(
        _("实名核验"), max_length=12, choices=IdentityStatus.choices, default=IdentityStatus.VERIFIED
    )
    identity_verified_at = models.DateTimeField(null=True, blank=True)
    identity_verified_via = models.CharField(max_length=12, blank=True)  # "window" or "provider"

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [
            ("reveal_personal_number", _("可查看完整证件号码和电话（留痕）")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class Department(models.Model):
    """A government department (民政、人社、市场监管…) at a place (district or subdistrict)."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=80)
    name_zh_hant = models.CharField(max_length=80, blank=True)
    name_en = models.CharField(max_length=120, blank=True)
    zh_hant_source = models.CharField(max_length=12, blank=True)  # "opencc": machine draft (core/i18n.py)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="departments")

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A role a user holds over a place (and, for officers, within a department).

    A user's jurisdiction is the union of the places of their staff roles; everything under
    such a place (by materialised path) is in scope.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="role_assignments")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "place", "department"], name="role_assignment_unique")
        ]
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.place}"


class ApiToken(models.Model):
    """A bearer token for another system. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """One failed login (wrong password or wrong second-factor code), for throttling.

    Throttles are counted over these rows by (username, address) and by address alone, as
    django-axes does, so that nobody can lock another person out by guessing from elsewhere and
    password spraying across accounts from one address is slowed (settings ``LOCKOUT_*``).
    The audit log keeps the history; rows older than the window are pruned by the worker.
    """

    username = models.CharField(max_length=150)  # normalised (casefolded); may name no account
    address = models.CharField(max_length=45)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "address", "at"], name="loginfailure_pair"),
            models.Index(fields=["address", "at"], name="loginfailure_address"),
            models.Index(fields=["at"], name="loginfailure_at"),
        ]
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")

    def __str__(self) -> str:
        return f"{self.username} @ {self.address}"


class TotpDevice(models.Model):
    """A user's authenticator app (RFC 6238 TOTP). The shared secret is encrypted at rest."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.TextField()  # gongzhi.core.crypto.encrypt(base32 secret)
    confirmed_at = models.DateTimeField()
    # The last time step accepted: a code is good once, even within its 30 seconds.
    last_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("两步验证设备")
        verbose_name_plural = _("两步验证设备")

    def __str__(self) -> str:
        return f"TOTP · {self.user}"


class PasswordResetCode(models.Model):
    """A one-time code sent to the user's phone (or e-mail) on record. Only its keyed hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reset_codes")
    code_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=10)  # "sms" or "email"
    address = models.CharField(max_length=45, blank=True)  # who asked (client address)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="resetcode_user_created")]
        verbose_name = _("密码重置验证码")
        verbose_name_plural = _("密码重置验证码")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """Messages to users about their account (reset codes), written in the action's transaction
    and sent by the worker through the platform's notification backend
    (settings.GONGZHI_NOTIFY_BACKEND; the console in the embedded mode). Recipient and body are
    encrypted at rest and the body is emptied once sent: it holds a live code until then."""

    channel = models.CharField(max_length=10)
    recipient = models.TextField()  # gongzhi.core.crypto.encrypt(phone or e-mail)
    subject = models.CharField(max_length=200)
    body = models.TextField()  # encrypted until sent, then ""
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sent_at", "id"], name="outbox_unsent")]
        verbose_name = _("账户消息")
        verbose_name_plural = _("账户消息")

    def __str__(self) -> str:
        return self.subject


class SignupCode(models.Model):
    """One step 1 of self-registration (自助注册): who asked, and the phone code sent for it.

    The number and phone are kept encrypted (with blind indexes for the throttles and the
    idempotent retry) so that step 2 can make the account from this row alone; the code only as a
    keyed hash. ``code_hash`` is empty when no code went to the phone typed — the number already
    has an account, or its record on file has another phone (a notice goes to the phone on record
    instead) — so every step 2 against this row fails like a wrong code and the page never tells
    whether a number is registered. A row is good once (``used_at``), until ``expires_at``, for
    ``SIGNUP_MAX_ATTEMPTS`` wrong codes.
    """

    ticket = models.CharField(max_length=32, unique=True)  # random; kept in the browser's session
    number_bidx = models.CharField(max_length=64)
    number_cipher = models.TextField()
    number_masked = models.CharField(max_length=24)
    name = models.CharField(max_length=60)
    phone_bidx = models.CharField(max_length=64)
    phone_cipher = models.TextField()
    phone_masked = models.CharField(max_length=20)
    home_place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code_hash = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=45, blank=True)  # who asked (client address)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["number_bidx", "created_at"], name="signupcode_number"),
            models.Index(fields=["phone_bidx", "created_at"], name="signupcode_phone"),
            models.Index(fields=["address", "created_at"], name="signupcode_address"),
        ]
        verbose_name = _("注册验证码")
        verbose_name_plural = _("注册验证码")

    def __str__(self) -> str:
        return f"{self.number_masked} · {self.created_at:%Y-%m-%d %H:%M}"
