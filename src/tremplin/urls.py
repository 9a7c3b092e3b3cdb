from django.contrib import admin
from django.urls import include, path

from tremplin.core.admin_site import configure_admin

configure_admin(admin.site)

urlpatterns = [
    path("", include("tremplin.schools.public_urls")),
    path("", include("tremplin.schools.urls")),
    path("", include("tremplin.admissions.portal_urls")),
    path("", include("tremplin.admissions.urls")),
    path("", include("tremplin.notify.urls")),
    path("", include("tremplin.selection.urls")),
    path("account/", include("tremplin.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
