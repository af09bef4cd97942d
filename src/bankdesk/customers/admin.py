from django.contrib import admin

from bankdesk.customers.models import Customer, Holding, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    readonly_fields = ("lookup",)


class HoldingInline(admin.TabularInline):
    model = Holding
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("customer_number", "name", "segment", "tier", "preferred_language")
    list_filter = ("segment", "tier", "is_provisional")
    search_fields = ("customer_number",)
    inlines = [IdentityInline, HoldingInline]
