from django.urls import path

from inbox import webhooks
from reputation.urls_common import common_urlpatterns
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("webhooks/meta/", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/google/", webhooks.google_pubsub_webhook, name="webhook-google"),
    *common_urlpatterns,
]
