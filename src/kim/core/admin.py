"""Django's admin is the operators' tool (superusers only) for organisation data. Personal
data of participants is deliberately not registered here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import District, Municipality, Provider, User


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "require_two_factor", "caseload_key"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "active"]
    list_filter = ["district"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "kind", "active"]
    list_filter = ["district", "kind"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "district", "provider", "role", "is_active"]
    list_filter = ["district", "role", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("KIM", {"fields": ("district", "provider", "role", "fte")}),)
