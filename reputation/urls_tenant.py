from django.shortcuts import redirect
from django.urls import include, path

from reputation.urls_common import common_urlpatterns
from tenants import views as tenant_views

urlpatterns = [
    path("", lambda request: redirect("inbox:list"), name="home"),
    path("handoff/", tenant_views.handoff, name="handoff"),
    path("inbox/", include("inbox.urls")),
    path("escalation/", include("escalation.urls")),
    path("api/v1/", include("inbox.api_urls")),
    path("api/v1/", include("escalation.api_urls")),
    *common_urlpatterns,
]
