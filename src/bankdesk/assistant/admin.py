from django.contrib import admin

from bankdesk.assistant.models import Intent, IntentExample
from bankdesk.security.admin_audit import AuditedModelAdmin


@admin.register(Intent)
class IntentAdmin(AuditedModelAdmin):
    list_display = ["code", "title_en", "title_zh", "category", "is_risk", "is_active"]
    list_filter = ["is_risk", "is_active"]
    search_fields = ["code", "title_en", "title_zh"]


@admin.register(IntentExample)
class IntentExampleAdmin(AuditedModelAdmin):
    list_display = ["label", "text", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["label", "text"]
