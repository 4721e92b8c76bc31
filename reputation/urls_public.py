from django.urls import path

from reputation.urls_common import common_urlpatterns
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="home"),
    *common_urlpatterns,
]
