from django.urls import path

from . import views

app_name = "system"
urlpatterns = [
    path("bedarfe/neu/", views.need_report_new, name="need-report-new"),
    path("bedarfe/meine/", views.my_need_reports, name="my-need-reports"),
    path("bedarfe/", views.inbox, name="inbox"),
    path("bedarfe/<int:pk>/", views.need_report_detail, name="need-report"),
    path("themen/", views.themes, name="themes"),
    path("themen/neu/", views.theme_edit, name="theme-new"),
    path("themen/<int:pk>/", views.theme_detail, name="theme"),
    path("themen/<int:pk>/bearbeiten/", views.theme_edit, name="theme-edit"),
]
