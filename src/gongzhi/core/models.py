"""Core tables: the audit chain, the working-day calendar and durable timers.

Deadlines are not stored here: each app keeps its own on its own rows (a case task's ``due``) and
recomputes provisional ones from an ``on_calendar_changed`` listener (services does).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.enums import CalendarSource, DayKind, TimerStatus


class AuditEvent(models.Model):
    """One append-only event of the platform-wide audit log.

    Writers insert rows with ``chain_seq``/``hash`` empty inside their own transaction; the
    sealer later links committed rows into the hash chain in the order it first sees them.
    This keeps the chain off the write path (FIELD-NOTES: a global chain serialises writers).
    """

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)  # kept if the user is renamed
    verb = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    place_path = models.CharField(max_length=200, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Sealing: position in the chain and the link hash (sha256 hex of prev_hash + canonical body).
    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The sealer looks for unsealed rows; a partial index keeps that lookup O(unsealed).
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(chain_seq__isnull=True)),
        ]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")

    def __str__(self) -> str:
        return f"#{self.pk} {self.verb} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """Single row holding the chain's tip; the sealer locks it so only one sealer runs at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"chain head #{self.last_seq}"


class CalendarYear(models.Model):
    """Whether the State Council schedule for a year is known. Unknown → deadlines provisional."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    complete = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=CalendarSource.choices)
    loaded_at = models.DateTimeField(auto_now=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule: a weekday holiday or a weekend make-up workday.

    Only exceptions are stored, so a year is ~30 rows and the whole table fits in memory.
    """

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=8, choices=DayKind.choices)
    name = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=16, choices=CalendarSource.choices)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class Timer(models.Model):
    """A durable timer row (DESIGN.md §3): claimed by a worker with a conditional UPDATE."""

    kind = models.CharField(max_length=60)
    key = models.CharField(max_length=160, unique=True, help_text=_("幂等键：同一键只排一次"))
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TimerStatus.choices, default=TimerStatus.PENDING)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=80, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="timer_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} @ {self.due_at:%Y-%m-%d %H:%M}"
