"""Residents' councils (居民议事会) under enforced rules of order.

The meeting's truth is its event log (``MeetingEvent``): the state of a meeting is rebuilt by
replaying the log through the pure ``procedure`` engine, so nothing is lost when the server
restarts mid-meeting and reconnecting clients resume from the log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.councils.enums import (
    ComplaintStatus,
    CouncilKind,
    MeetingStatus,
    MemberRole,
    MemberSector,
    MinutesStatus,
)


class RuleProfileRecord(models.Model):
    """A rule profile as data: a base (``ronr`` / ``nantang``) plus an administrator's overrides.

    The Luohu ten rules are a local text: a district encodes them as overrides here, not in code.
    """

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    base = models.CharField(max_length=20, default="nantang")
    overrides = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = _("议事规则")
        verbose_name_plural = _("议事规则")

    def __str__(self) -> str:
        return self.name


class Council(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=14, choices=CouncilKind.choices, default=CouncilKind.RESIDENTS)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="councils")
    profile = models.ForeignKey(RuleProfileRecord, on_delete=models.PROTECT, related_name="councils")
    # Shareholders' meetings of collective companies vote by shares and count shares for quorum.
    weighted = models.BooleanField(default=False)
    organisation = models.ForeignKey(
        "people.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="councils"
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("议事会")
        verbose_name_plural = _("议事会")

    def __str__(self) -> str:
        return self.name


class CouncilMember(models.Model):
    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    display_name = models.CharField(max_length=60)
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    sector = models.CharField(max_length=12, choices=MemberSector.choices, default=MemberSector.RESIDENT)
    weight = models.PositiveIntegerField(default=1, help_text=_("表决权数（股东大会按股份）"))
    term_start = models.DateField()
    term_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["council", "id"]
        verbose_name = _("议事会成员")
        verbose_name_plural = _("议事会成员")

    def __str__(self) -> str:
        return self.display_name


class Moderator(models.Model):
    """The register of trained rules moderators (议事规则主持人; Luohu trained 83)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderator")
    display_name = models.CharField(max_length=60)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    training_hours = models.PositiveSmallIntegerField(default=0)
    trained_on = models.DateField(null=True, blank=True)
    certificate_no = models.CharField(max_length=40, blank=True)
    certified_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("议事规则主持人")
        verbose_name_plural = _("议事规则主持人")

    def __str__(self) -> str:
        return self.display_name


class ModeratorAssignment(models.Model):
    moderator = models.ForeignKey(Moderator, on_delete=models.CASCADE, related_name="assignments")
    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="moderator_assignments")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.moderator} → {self.council}"


class Meeting(models.Model):
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=160)
    scheduled_at = models.DateTimeField()
    location = models.CharField(max_length=160, blank=True)
    status = models.CharField(max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    moderator = models.ForeignKey(Moderator, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    secretary = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    # Frozen at the start: members (id, name, weight) and the resolved profile, so a later edit of
    # the council or its rules never changes how a held meeting replays.
    roster = models.JSONField(default=list, blank=True)
    profile_snapshot = models.JSONField(default=dict, blank=True)
    agenda_snapshot = models.JSONField(default=list, blank=True, help_text=_("开会时冻结的议程（议程项标题）"))
    in_person = models.BooleanField(default=False, help_text=_("现场模式：主持人代为记录举手和发言"))
    version = models.PositiveIntegerField(default=0, help_text=_("已记录的最后一个事件序号"))

    class Meta:
        ordering = ["-scheduled_at"]
        verbose_name = _("会议")
        verbose_name_plural = _("会议")

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return self.title


class MeetingEvent(models.Model):
    """One accepted event of a meeting, in order. Refused actions are never stored here."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("现场模式下代为记录的主持人"),
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["meeting", "seq"]
        constraints = [models.UniqueConstraint(fields=["meeting", "seq"], name="meeting_event_seq_unique")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class BallotBox(models.Model):
    """The ballot box of one secret ballot: slips of ``[choice, weight]`` naming nobody, kept as
    one sorted list, so that neither a row id, a timestamp nor the order of the list tells in
    which order the ballots were cast. The roll of who voted is the log (``CastVote`` rows carry
    no choice). While the ballot is open the engine reads its slips from here; at the result the
    opened box is also written into the ``AnnounceResult`` event, and kept here for a recount.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="ballot_boxes")
    called_seq = models.PositiveIntegerField(help_text=_("开始投票的事件序号"))
    motion_id = models.CharField(max_length=40)
    slips = models.JSONField(default=list, blank=True)
    open = models.BooleanField(default=True)

    class Meta:
        ordering = ["meeting", "called_seq"]
        constraints = [models.UniqueConstraint(fields=["meeting", "called_seq"], name="ballot_box_unique")]
        verbose_name = _("票箱")
        verbose_name_plural = _("票箱")

    def __str__(self) -> str:
        return f"{self.meeting_id} #{self.called_seq} {self.motion_id}"


class Minutes(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    status = models.CharField(max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    content = models.JSONField(default=dict)
    digest = models.CharField(max_length=64, blank=True, help_text=_("纪要内容 SHA-256，写入审计链"))
    generated_at = models.DateTimeField()
    chair_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    chair_approved_at = models.DateTimeField(null=True, blank=True)
    secretary_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    secretary_approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("会议纪要")
        verbose_name_plural = _("会议纪要")

    def __str__(self) -> str:
        return f"{self.meeting} 纪要"


class NeutralityComplaint(models.Model):
    moderator = models.ForeignKey(Moderator, on_delete=models.CASCADE, related_name="complaints")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    text = models.TextField()
    status = models.CharField(max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    resolution = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.moderator} 中立性投诉"
