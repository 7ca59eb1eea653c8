"""Configuration screens for councils.

Every write goes through an action (``actions.do_*``: validated, jurisdiction-checked, audited).
Each form runs its action once in ``clean()`` inside a rolled-back savepoint, so whatever the
action would refuse — a place outside the user's jurisdiction included — shows as a form error
and nothing is stored; saving then runs the same action for real (an error raised at that point
is not swallowed: the admin's transaction rolls back). Nothing is deleted here: members' terms
end, moderators are stopped, assignments end; the event log and minutes are read-only records.
Lists show only what the user's jurisdiction covers (``queries``).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from gongzhi.core.actors import Actor
from gongzhi.core.errors import ActionError
from gongzhi.councils import actions, queries
from gongzhi.councils.enums import MeetingStatus
from gongzhi.councils.models import (
    AgendaItem,
    Council,
    CouncilMember,
    Meeting,
    MeetingEvent,
    Minutes,
    Moderator,
    ModeratorAssignment,
    NeutralityComplaint,
    RuleProfileRecord,
)


class _DryRun(Exception):
    """Raised inside the validation savepoint to roll the action back."""


def _dry_run(form: forms.BaseForm | forms.BaseFormSet, run: Any) -> None:
    """Run ``run()`` (the action) and roll it back; its refusal becomes the form's errors."""
    try:
        with transaction.atomic():
            run()
            raise _DryRun
    except _DryRun:
        pass
    except ActionError as exc:
        for field, message in exc.entries():
            if isinstance(form, forms.BaseForm):
                form.add_error(field if field in form.fields and field in form.cleaned_data else None, message)
            else:
                raise forms.ValidationError(message) from exc


class ActionForm(forms.ModelForm):
    """A model form whose saving is :meth:`apply` — one or more actions — never ``Model.save``."""

    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    def apply(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or (self.instance.pk is not None and not self.has_changed()):
            return data
        _dry_run(self, lambda: self.apply(data))
        return data

    def save_through_action(self) -> Any:
        if self.instance.pk is not None and not self.has_changed():
            return self.instance
        saved = self.apply(self.cleaned_data)
        if saved is not None and self.instance.pk is None:
            # What the admin reads after saving (the redirect, the inlines' parent, the log).
            self.instance.pk = saved.pk
            self.instance._state.adding = False
        return saved


class ActionModelAdmin(admin.ModelAdmin):
    """Saves through the form's actions; nothing is deleted; lists are scoped by jurisdiction."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Inline rows act on the saved parent: add the parent first, then its rows.
        return [] if obj is None else super().get_inline_instances(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        form.save_through_action()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # What ``formset.save()`` would leave behind for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if hasattr(formset, "save_through_actions"):
            formset.save_through_actions()
            return
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form.cleaned_data.get("DELETE"):
                continue
            is_new = inline_form.instance.pk is None
            saved = inline_form.save_through_action()
            if is_new:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, inline_form.changed_data))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.actor = request.user  # type: ignore[attr-defined]
        formset.actor = request.user  # type: ignore[attr-defined]
        return formset


# ------------------------------------------------------------------------------- rule profiles


class RuleProfileForm(ActionForm):
    class Meta:
        model = RuleProfileRecord
        fields = ["key", "name", "base", "overrides", "description"]
        help_texts = {"overrides": "JSON 对象，例如 {\"speech_seconds\": 180, \"max_speeches\": 2}；只写与基础规则不同的参数。"}

    def apply(self, data: dict[str, Any]) -> RuleProfileRecord:
        overrides = data.get("overrides") or {}
        if self.instance.pk is None:
            return actions.do_create_profile(data.get("key") or "", data.get("name") or "", data.get("base") or "",
                                             overrides, actor=self.actor, description=data.get("description") or "")
        return actions.do_update_profile(RuleProfileRecord.objects.get(pk=self.instance.pk), actor=self.actor,
                                         name=data.get("name") or "", base=data.get("base") or "",
                                         overrides=overrides, description=data.get("description") or "")


@admin.register(RuleProfileRecord)
class RuleProfileAdmin(ActionModelAdmin):
    form = RuleProfileForm
    list_display = ["key", "name", "base"]
    readonly_fields = ["resolved"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The key names the profile in every meeting's frozen snapshot.
        return ["resolved", "key"] if obj is not None else ["resolved"]

    @admin.display(description="生效参数")
    def resolved(self, obj: RuleProfileRecord) -> SafeString | str:
        if obj.pk is None:
            return "—"
        try:
            params = actions.resolve_profile(obj.base, obj.overrides)
        except actions.CouncilError as exc:
            return exc.message
        rows = [(k, json.dumps(v, ensure_ascii=False), "✓" if k in obj.overrides else "")
                for k, v in params.items()]
        return format_html_join("", "<div><code>{}</code> = {} <strong>{}</strong></div>", rows)


# ------------------------------------------------------------------------------------ councils


class MemberForm(ActionForm):
    class Meta:
        model = CouncilMember
        fields = ["display_name", "user", "role", "sector", "weight", "term_start", "term_end"]

    def apply(self, data: dict[str, Any]) -> CouncilMember:
        if self.instance.pk is None:
            return actions.do_add_member(
                self.instance.council, data.get("display_name") or "", actor=self.actor, user=data.get("user"),
                role=data.get("role") or "", sector=data.get("sector") or "", weight=data.get("weight") or 0,
                term_start=data.get("term_start"), term_end=data.get("term_end"))
        current = CouncilMember.objects.get(pk=self.instance.pk)
        changed = set(self.changed_data)
        if "term_start" in changed:
            raise actions.CouncilError(_("任期开始日不能修改；如有错误请结束该任期并重新添加。"), field="term_start")
        if changed & {"display_name", "user", "role", "sector", "weight"}:
            current = actions.do_update_member(
                current, actor=self.actor, display_name=data.get("display_name") or "", user=data.get("user"),
                role=data.get("role") or "", sector=data.get("sector") or "", weight=data.get("weight") or 0)
        if "term_end" in changed:
            if data.get("term_end") is None:
                raise actions.CouncilError(_("已结束的任期不能撤销；请重新添加该成员。"), field="term_end")
            current = actions.do_end_membership(current, actor=self.actor, on=data["term_end"])
        return current


class MemberInline(ActionInline):
    model = CouncilMember
    form = MemberForm
    fields = ["display_name", "user", "role", "sector", "weight", "term_start", "term_end"]
    raw_id_fields = ["user"]


class AssignmentForm(ActionForm):
    class Meta:
        model = ModeratorAssignment
        fields = ["moderator", "council", "start", "end"]

    def apply(self, data: dict[str, Any]) -> ModeratorAssignment:
        if self.instance.pk is None:
            return actions.do_assign_moderator(data["moderator"], data["council"], actor=self.actor,
                                               start=data.get("start"), end=data.get("end"))
        changed = set(self.changed_data)
        if changed - {"end"}:
            raise actions.CouncilError(_("指派只能修改结束日期；其他改动请结束本指派后重新指派。"), field="end")
        return actions.do_end_assignment(ModeratorAssignment.objects.get(pk=self.instance.pk), data.get("end"),  # type: ignore[arg-type]
                                         actor=self.actor)


class AssignmentInline(ActionInline):
    model = ModeratorAssignment
    form = AssignmentForm


class CouncilForm(ActionForm):
    class Meta:
        model = Council
        fields = ["name", "kind", "place", "profile", "weighted", "organisation", "active"]

    def apply(self, data: dict[str, Any]) -> Council:
        if self.instance.pk is None:
            return actions.do_create_council(
                data.get("name") or "", data["place"], data["profile"], actor=self.actor,
                kind=data.get("kind") or "", weighted=bool(data.get("weighted")), organisation=data.get("organisation"))
        return actions.do_update_council(
            Council.objects.get(pk=self.instance.pk), actor=self.actor, name=data.get("name") or "",
            place=data["place"], profile=data["profile"], kind=data.get("kind") or "",
            weighted=bool(data.get("weighted")), organisation=data.get("organisation"), active=bool(data.get("active")))


@admin.register(Council)
class CouncilAdmin(ActionModelAdmin):
    form = CouncilForm
    list_display = ["name", "kind", "place", "profile", "weighted", "active"]
    list_filter = ["kind", "weighted", "active"]
    inlines = [MemberInline, AssignmentInline]
    raw_id_fields = ["place", "organisation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Council]:
        return queries.councils_for_user(request.user)


# ---------------------------------------------------------------------------------- moderators


class ComplaintForm(ActionForm):
    class Meta:
        model = NeutralityComplaint
        fields = ["status", "resolution"]

    def apply(self, data: dict[str, Any]) -> NeutralityComplaint:
        return actions.do_resolve_complaint(NeutralityComplaint.objects.get(pk=self.instance.pk),
                                            data.get("status") or "", data.get("resolution") or "", actor=self.actor)


class ComplaintInline(ActionInline):
    model = NeutralityComplaint
    form = ComplaintForm
    fields = ["meeting", "filed_by", "filed_at", "text", "status", "resolution"]
    readonly_fields = ["meeting", "filed_by", "filed_at", "text"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # complaints are filed by the people who were in the meeting


class ModeratorForm(ActionForm):
    class Meta:
        model = Moderator
        fields = ["user", "display_name", "place", "training_hours", "trained_on", "certificate_no",
                  "certified_on", "active"]

    def apply(self, data: dict[str, Any]) -> Moderator:
        common: dict[str, Any] = {"display_name": data.get("display_name") or "", "training_hours": data.get("training_hours") or 0,
                  "trained_on": data.get("trained_on"), "certificate_no": data.get("certificate_no") or "",
                  "certified_on": data.get("certified_on")}
        if self.instance.pk is None:
            return actions.do_register_moderator(data["user"], data["place"], actor=self.actor, **common)
        return actions.do_update_moderator(Moderator.objects.get(pk=self.instance.pk), actor=self.actor,
                                           place=data["place"], active=bool(data.get("active")), **common)


@admin.register(Moderator)
class ModeratorAdmin(ActionModelAdmin):
    form = ModeratorForm
    list_display = ["display_name", "place", "training_hours", "certificate_no", "certified_on", "active"]
    list_filter = ["active"]
    inlines = [AssignmentInline, ComplaintInline]
    raw_id_fields = ["user", "place"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user"] if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Moderator]:
        return queries.moderators_for_user(request.user)


# ------------------------------------------------------------------------------------ meetings


class AgendaFormSet(forms.BaseInlineFormSet):
    """The agenda is replaced as a whole (``do_set_agenda``), in the order of the ``order`` column."""

    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    def items(self) -> list[tuple[str, str]]:
        rows = [f.cleaned_data for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE") and (f.instance.pk or f.has_changed())]
        rows.sort(key=lambda d: d.get("order") or 0)
        return [(d.get("title") or "", d.get("description") or "") for d in rows]

    def changed(self) -> bool:
        return any(f.has_changed() for f in self.forms)

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.changed():
            return
        _dry_run(self, lambda: actions.do_set_agenda(self.instance, self.items(), actor=self.actor))

    def save_through_actions(self) -> None:
        if self.changed():
            actions.do_set_agenda(self.instance, self.items(), actor=self.actor)


class AgendaInline(admin.TabularInline):
    model = AgendaItem
    formset = AgendaFormSet
    extra = 0

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = request.user  # type: ignore[attr-defined]
        return formset

    def _open(self, obj: Any) -> bool:
        return obj is not None and obj.status in (MeetingStatus.SCHEDULED, MeetingStatus.NOTICED)

    # Once the meeting has started its agenda is part of the record.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._open(obj) and super().has_delete_permission(request, obj)


class MeetingForm(ActionForm):
    class Meta:
        model = Meeting
        fields = ["council", "title", "scheduled_at", "location", "moderator", "secretary", "in_person"]

    def apply(self, data: dict[str, Any]) -> Meeting:
        common: dict[str, Any] = {"location": data.get("location") or "", "moderator": data.get("moderator"),
                  "secretary": data.get("secretary"), "in_person": bool(data.get("in_person"))}
        if self.instance.pk is None:
            return actions.do_schedule_meeting(data["council"], data.get("title") or "", data["scheduled_at"],
                                               actor=self.actor, **common)
        return actions.do_update_meeting(Meeting.objects.get(pk=self.instance.pk), actor=self.actor,
                                         title=data.get("title") or "", scheduled_at=data["scheduled_at"], **common)


@admin.register(Meeting)
class MeetingAdmin(ActionModelAdmin):
    form = MeetingForm
    list_display = ["title", "council", "scheduled_at", "status", "version", "in_person"]
    list_filter = ["status", "in_person"]
    inlines = [AgendaInline]
    raw_id_fields = ["secretary"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Roster, rules and version are frozen by the start of the meeting and moved only by actions.
        frozen = ["status", "roster", "profile_snapshot", "agenda_snapshot", "version", "notice_sent_at"]
        return [*frozen, "council"] if obj is not None else frozen

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return queries.meetings_for_user(request.user)


# ------------------------------------------------------------------------------------- records


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MeetingEvent)
class MeetingEventAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "seq", "kind", "actor", "recorded_by", "created_at"]
    list_filter = ["kind"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MeetingEvent]:
        return super().get_queryset(request).filter(meeting__in=queries.meetings_for_user(request.user).values("pk"))


@admin.register(Minutes)
class MinutesAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "status", "generated_at", "published_at", "digest"]
    list_filter = ["status"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Minutes]:
        return super().get_queryset(request).filter(meeting__in=queries.meetings_for_user(request.user).values("pk"))
