from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from bankdesk.security.admin_audit import AuditedModelAdmin
from bankdesk.staff.models import ApiToken, Branch, ChannelCapacity, Skill, Team, User


class ChannelCapacityInline(admin.TabularInline):
    model = ChannelCapacity
    extra = 0


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "bankdesk",
            {
                "fields": (
                    "role",
                    "display_name",
                    "preferred_language",
                    "teams",
                    "skills",
                    "max_open_cases",
                )
            },
        ),
    )
    inlines = (ChannelCapacityInline,)


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "is_complaint_team", "calendar")
    exclude = ("round_robin_last_user",)  # routing's bookmark, not configuration


@admin.register(Branch)
class BranchAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "calendar", "is_active")
    list_filter = ("is_active",)


@admin.register(Skill)
class SkillAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
