"""Django's admin is the operators' tool (superusers with a verified second factor, see
kim.core.middleware) for organisation data. Personal data of participants is deliberately not
registered here. What an operator changes here is audited like every other change: one entry
per saved or deleted row, with the changed fields before and after (a password only as set)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction

from .audit import Action, diff, record, snapshot
from .models import District, Municipality, Provider, User
from .services import revoke_api_tokens

SECRET_FIELDS = {"password"}


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletions in the admin leave an audit entry, inside the admin's transaction."""

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name in self.model_field_names() - SECRET_FIELDS]
        stored = type(obj)._base_manager.get(pk=obj.pk) if change else None
        before = snapshot(stored, fields) if stored else {}
        super().save_model(request, obj, form, change)
        changes = diff(before, snapshot(obj, fields))
        if getattr(obj, "password", None) != getattr(stored, "password", None):
            changes["password"] = ["***" if change else None, "***"]
        if changes or not change:
            record(request.user, Action.UPDATE if change else Action.CREATE, obj, changes=changes)

    def delete_model(self, request, obj):
        record(request.user, Action.DELETE, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record(request.user, Action.DELETE, obj)
        super().delete_queryset(request, queryset)

    def model_field_names(self) -> set[str]:
        return {field.name for field in self.model._meta.concrete_fields}


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ["name", "slug", "require_two_factor", "caseload_key"]


@admin.register(Municipality)
class MunicipalityAdmin(AuditedAdmin):
    list_display = ["name", "district", "active"]
    list_filter = ["district"]


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ["name", "district", "kind", "active"]
    list_filter = ["district", "kind"]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "district", "provider", "role", "is_active"]
    list_filter = ["district", "role", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("KIM", {"fields": ("district", "provider", "role")}),)

    def save_model(self, request, obj, form, change):
        was_active = change and User._base_manager.filter(pk=obj.pk).values_list("is_active", flat=True).get()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            revoke_api_tokens(request.user, obj)

    def user_change_password(self, request, id, form_url=""):
        """The admin's password form saves without save_model: audit the change it made."""
        with transaction.atomic():
            before = User._base_manager.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User._base_manager.filter(pk=id).first()
            if user is not None and before is not None and user.password != before:
                record(request.user, Action.UPDATE, user, changes={"password": ["***", "***"]})
        return response
