"""Livelihood micro-projects (民生微实事): a resident's idea → screening → council vote →
funding → delivery → acceptance. The council's own record (meeting, agenda, minutes) stays in
the councils app; a proposal only points at it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.microprojects.enums import CouncilOutcome, FundingMethod, ProposalStatus


class CommunityBudget(models.Model):
    """A community's annual 民生微实事 budget and the ceiling for one project."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    total = models.DecimalField(_("年度预算（元）"), max_digits=12, decimal_places=2)
    ceiling = models.DecimalField(_("单个项目上限（元）"), max_digits=12, decimal_places=2)
    method = models.CharField(max_length=10, choices=FundingMethod.choices, default=FundingMethod.KNAPSACK)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place", "year"], name="micro_budget_place_year")]
        verbose_name = _("民生微实事年度预算")
        verbose_name_plural = _("民生微实事年度预算")

    def __str__(self) -> str:
        return f"{self.place} {self.year}"


class Proposal(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(db_index=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposer_name = models.CharField(max_length=60)
    # Duplicates merged into this one: their proposers are credited here too.
    co_proposers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    title = models.CharField(_("项目名称"), max_length=120)
    description = models.TextField(_("项目内容"))
    reason = models.TextField(_("理由"), blank=True)
    location = models.CharField(_("地点"), max_length=160, blank=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    estimated_cost = models.DecimalField(_("估算费用（元）"), max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED,
                              db_index=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    created_at = models.DateTimeField()
    # screening (资格审核)
    screening_reason = models.TextField(blank=True)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    screened_at = models.DateTimeField(null=True, blank=True)
    # the council (议事会): the agenda item, the motion's wording and the outcome read from the minutes
    meeting = models.ForeignKey("councils.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    agenda_item = models.ForeignKey("councils.AgendaItem", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    motion_text = models.TextField(blank=True)
    motion_id = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=10, choices=CouncilOutcome.choices, blank=True)
    outcome_text = models.TextField(blank=True)
    minutes = models.ForeignKey("councils.Minutes", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # funding and delivery
    funded_amount = models.DecimalField(null=True, blank=True, max_digits=12, decimal_places=2)
    implementer = models.CharField(_("实施单位"), max_length=120, blank=True)
    due_on = models.DateField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    # acceptance (验收)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    acceptance_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-year", "-created_at", "-id"]
        indexes = [models.Index(fields=["place", "year", "status"], name="micro_prop_place_year")]
        verbose_name = _("民生微实事项目")
        verbose_name_plural = _("民生微实事项目")

    def __str__(self) -> str:
        return self.title

    @property
    def number(self) -> str:
        return f"MS{self.year}-{self.pk:05d}"


class ProposalPhoto(models.Model):
    """A photo kept under ``var/microprojects/`` (0600) by a random name; served through a view."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="photos")
    stored_name = models.CharField(max_length=40, unique=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.stored_name


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    # carried over from a merged duplicate
    carried_from = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="micro_support_once")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.proposal_id}"


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=60)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:30]


class FundingList(models.Model):
    """The approving office's funding decision for a community's year (reproducible from ``inputs``)."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=10, choices=FundingMethod.choices)
    budget = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    inputs = models.JSONField(default=list)
    chosen = models.ManyToManyField(Proposal, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place", "year"], name="micro_funding_place_year")]

    def __str__(self) -> str:
        return f"{self.place} {self.year}"


class Milestone(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=120)
    due_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.title


class Spending(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="spending")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    description = models.CharField(max_length=160)
    spent_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["spent_on", "id"]

    def __str__(self) -> str:
        return f"{self.amount}"


class Rating(models.Model):
    """A resident's satisfaction (1–5) with an accepted project."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stars = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="micro_rating_once")]

    def __str__(self) -> str:
        return f"{self.stars}"
