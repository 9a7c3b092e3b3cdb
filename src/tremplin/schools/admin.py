from django.contrib import admin

from tremplin.schools.models import (
    BudgetLine,
    Commune,
    Grant,
    Partner,
    Province,
    Region,
    School,
    SchoolPartner,
    Track,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ar")
    search_fields = ("name", "name_ar", "code")


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ar", "kind", "region")
    list_filter = ("region", "kind")
    search_fields = ("name", "name_ar", "code")


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ar", "kind", "province")
    list_filter = ("province__region", "kind")
    search_fields = ("name", "name_ar", "code")


class SchoolPartnerInline(admin.TabularInline):
    model = SchoolPartner
    extra = 0
    autocomplete_fields = ["partner"]


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ("code", "kind", "name", "name_ar", "duration_months", "is_active")


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "commune", "is_active")
    search_fields = ("name", "name_ar", "code", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["commune"]
    inlines = [SchoolPartnerInline, TrackInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "acronym", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "name_ar", "acronym")


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("title", "school", "funder", "starts_on", "ends_on")
    list_filter = ("school", "funder")
    autocomplete_fields = ["school", "funder"]
    inlines = [BudgetLineInline]
