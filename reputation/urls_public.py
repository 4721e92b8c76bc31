from django.urls import path

from inbox.sources import webhooks
from reputation import views
from reputation.urls_common import common_urlpatterns
from tenants import views as tenant_views

urlpatterns = [
    path("", views.home, name="home"),
    path("practices/new/", tenant_views.practice_new, name="practice-new"),
    path("invite/<str:uidb64>/<str:token>/", tenant_views.invite, name="invite"),
    path("webhooks/meta/", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/google/", webhooks.google_pubsub_webhook, name="webhook-google"),
    *common_urlpatterns,
]
