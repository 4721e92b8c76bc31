from django.urls import path

from inbox.sources import webhooks
from reputation import views
from reputation.urls_common import common_urlpatterns

urlpatterns = [
    path("", views.home, name="home"),
    path("webhooks/meta/", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/google/", webhooks.google_pubsub_webhook, name="webhook-google"),
    *common_urlpatterns,
]
