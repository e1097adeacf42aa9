from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language comes from cookie, not the URL)
from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("webhooks/", include("samphan.channels.urls")),
    path("webchat/", include("samphan.channels.webchat.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("samphan.web.urls")),
]
