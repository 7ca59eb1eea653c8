"""Admin for persons, organisations, documents and consents.

Masked columns only — the cipher and blind-index columns are never shown. Searching by a full
ID number goes through the blind index (``get_search_results``). Every save is an action.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.core.actors import Actor
from gongzhi.core.crypto import blind_index
from gongzhi.core.domain.identifiers import check_person_number
from gongzhi.core.errors import ActionError
from gongzhi.people import actions, queries
from gongzhi.people.models import Consent, Document, Organisation, Person

PERSON_HIDDEN = ("number_cipher", "number_bidx", "phone_cipher", "phone_bidx")

UNSET = actions.UNSET


class ActionForm(forms.ModelForm):
    """A model form whose ``clean()`` asks the action's own validation, as ``actor``.

    The admin's ``save_model`` then calls the action: an error is shown on the form, with the
    field it names, and nothing is saved — never a message beside a page that looks saved.
    ``actor`` is set on the class by ``ModelAdmin.get_form`` (the request's user).
    """

    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    def validate(self, data: dict[str, Any]) -> None:
        """Call the action's validation with ``data`` (``cleaned_data``); raise what it raises."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data  # the fields' own errors first; the action needs well-formed values
        try:
            self.validate(data)
        except ActionError as exc:
            for field, message in exc.entries():
                self.add_error(field if field in self.fields else None, message)
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or _("您无权修改此记录"))
        except Http404:
            self.add_error(None, _("所选记录不存在或不在您的管辖范围内"))
        return data


def _with_actor(form: type[Any], request: HttpRequest) -> type[Any]:
    return type(form.__name__, (form,), {"actor": request.user})


class PersonAddForm(ActionForm):
    number = forms.CharField(label=_("证件号码"), max_length=64)
    phone = forms.CharField(label=_("电话"), max_length=30, required=False)

    class Meta:
        model = Person
        fields = ("name", "home_place", "address")

    def validate(self, data: dict[str, Any]) -> None:
        actions.validate_register_person(
            data["number"], data["name"], phone=data.get("phone") or None, home_place=data.get("home_place"),
            actor=self.actor,
        )


class PersonChangeForm(ActionForm):
    class Meta:
        model = Person
        fields = ("name", "home_place", "address", "user", "bad_credit")

    def validate(self, data: dict[str, Any]) -> None:
        person = Person.objects.get(pk=self.instance.pk)  # self.instance already carries the input
        actions.validate_update_person_contact(
            person, name=data["name"], address=data.get("address", ""), home_place=data.get("home_place"),
            actor=self.actor,
        )
        if "user" in self.changed_data:
            if data.get("user") is None:
                # There is no unlink action (a resident's account stays tied to their identity).
                raise ActionError(gettext("不能在此解除账号与人员的关联"), field="user")
            actions.validate_link_user_to_person(data["user"], person, actor=self.actor)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "number_kind", "number_masked", "phone_masked", "home_place", "birth_date", "sex")
    list_filter = ("number_kind", "sex")
    search_fields = ("name",)
    search_help_text = _("按姓名或完整证件号码搜索")
    raw_id_fields = ("home_place", "user")
    exclude = PERSON_HIDDEN
    readonly_fields = ("number_kind", "number_masked", "phone_masked", "birth_date", "sex", "created_at", "updated_at")
    form = PersonChangeForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return queries.persons_for_user(request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = PersonAddForm
            kwargs["fields"] = ("number", "name", "phone", "home_place", "address")
        return _with_actor(super().get_form(request, obj, change=change, **kwargs), request)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("number", "name", "phone", "home_place", "address")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Person], search_term: str) -> Any:
        term = search_term.strip()
        result = check_person_number(term) if term else None
        if result is not None and result.valid:
            # A full number: exact match on the keyed blind index (no plaintext column exists).
            return queryset.filter(number_bidx=blind_index(result.normalized, purpose="id")), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        # The form's clean() ran the actions' validation; an action that still refuses (a race)
        # raises, and nothing is reported as saved.
        data = form.cleaned_data
        if not change:
            person = actions.do_register_person(
                data["number"], data["name"], phone=data.get("phone") or None,
                home_place=data.get("home_place"), address=data.get("address", ""), actor=request.user,
            )
            obj.pk = person.pk
            obj._state.adding = False
            return
        fresh = Person.objects.get(pk=obj.pk)
        actions.do_update_person_contact(
            fresh, name=data["name"], address=data.get("address", ""), home_place=data.get("home_place"),
            actor=request.user,
        )
        if "user" in form.changed_data and data.get("user") is not None:
            actions.do_link_user_to_person(data["user"], fresh, actor=request.user)
        if "bad_credit" in form.changed_data:
            actions.do_set_bad_credit(fresh, bool(data.get("bad_credit")), actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a person is an identity: records point at it for years


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ("doc_type", "title", "issued_on", "expires_on", "size", "revoked_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganisationForm(ActionForm):
    class Meta:
        model = Organisation
        fields = ("uscc", "name", "kind", "place", "address", "legal_representative", "agents", "bad_credit")

    def validate(self, data: dict[str, Any]) -> None:
        if self.instance.pk is None:
            uscc = data["uscc"]
            if Organisation.objects.filter(uscc=uscc.strip().upper()).exists():
                # A USCC is public registration data: saying it is on file leaks nothing.
                raise ActionError(gettext("该统一社会信用代码已登记"), field="uscc")
            actions.validate_register_organisation(
                uscc, data["name"], data["kind"], data.get("place"),
                legal_representative=data.get("legal_representative"), actor=self.actor,
            )
            return
        org = Organisation.objects.get(pk=self.instance.pk)  # self.instance already carries the input
        actions.validate_update_organisation(
            org, name=data["name"], kind=data["kind"], place=data.get("place"), address=data.get("address", ""),
            legal_representative=data.get("legal_representative"), actor=self.actor,
        )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "kind", "place", "bad_credit")
    list_filter = ("kind",)
    search_fields = ("name", "uscc")
    raw_id_fields = ("place", "legal_representative")
    filter_horizontal = ("agents",)
    inlines = [DocumentInline]
    form = OrganisationForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return queries.organisations_for_user(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("uscc",) if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        return _with_actor(super().get_form(request, obj, change=change, **kwargs), request)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        # The form's clean() ran the actions' validation; an action that still refuses raises.
        data = form.cleaned_data
        if not change:
            org = actions.do_register_organisation(
                data["uscc"], data["name"], data["kind"], data.get("place"),
                legal_representative=data.get("legal_representative"), address=data.get("address", ""),
                actor=request.user,
            )
        else:
            org = actions.do_update_organisation(
                Organisation.objects.get(pk=obj.pk), name=data["name"], kind=data["kind"], place=data.get("place"),
                address=data.get("address", ""), legal_representative=data.get("legal_representative"),
                actor=request.user,
            )
        if bool(data.get("bad_credit")) != org.bad_credit:
            actions.do_set_bad_credit(org, bool(data.get("bad_credit")), actor=request.user)
        obj.pk = org.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Agents are added through the action (which also grants the enterprise-agent role).
        org = Organisation.objects.get(pk=form.instance.pk)
        agents = list(form.cleaned_data.get("agents", []))
        for user in agents:
            actions.do_add_agent(org, user, actor=request.user)
        for user in org.agents.exclude(pk__in=[u.pk for u in agents]):
            actions.do_remove_agent(org, user, actor=request.user)
        for formset in formsets:
            # The document inline is read-only (uploads go through the wallet's action): this only
            # fills in what the admin's change message reads, and writes nothing.
            formset.save(commit=False)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "doc_type", "person", "organisation", "issued_on", "expires_on", "size", "revoked_at")
    list_filter = ("doc_type",)
    search_fields = ("title",)
    readonly_fields = ("person", "organisation", "file", "filename", "content_type", "size", "sha256", "uploaded_at",
                       "revoked_at", "doc_type", "title", "issuer", "issued_on", "expires_on", "source")
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return queries.documents_for_user(request.user).select_related("person", "organisation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the wallet screens (size/type checks, sha256)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Every field is read-only: the page's "save" has nothing to write, and writes happen only
        # through the list action below (an action with its audit event), never ``obj.save()``.
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    @admin.action(description=_("撤销所选材料"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for doc in queryset:
            try:
                actions.do_revoke_document(doc, actor=request.user, reason="admin")
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("person", "purpose", "channel", "text_version", "granted_at", "withdrawn_at")
    list_filter = ("purpose",)
    readonly_fields = ("person", "purpose", "channel", "text_version", "granted_at", "withdrawn_at")
    actions = ["withdraw"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return Consent.objects.filter(person__in=queries.persons_for_user(request.user)).select_related("person")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Every field is read-only: the page's "save" has nothing to write, and writes happen only
        # through the list action below (an action with its audit event), never ``obj.save()``.
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    @admin.action(description=_("撤回所选授权"), permissions=["change"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        for consent in queryset:
            actions.do_withdraw_consent(consent, actor=request.user)
