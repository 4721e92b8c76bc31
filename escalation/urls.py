from django.urls import path

from escalation import views

app_name = "escalation"
urlpatterns = [
    path("", views.escalation_list, name="escalations"),
    path("new/", views.escalation_new, name="escalation-new"),
    path("<int:pk>/", views.escalation_detail, name="escalation-detail"),
    path("<int:pk>/evidence-pack/", views.escalation_pack, name="escalation-pack"),
    path("reports/", views.report_list, name="reports"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/evidence-pack/", views.report_pack, name="report-pack"),
    path("customers/", views.customer_list, name="customers"),
    path("mentions/<int:pk>/customer/", views.mention_customer, name="mention-customer"),
    path("mentions/<int:pk>/defamatory/", views.mention_defamatory, name="mention-defamatory"),
    path("settings/", views.escalation_settings, name="settings"),
]
