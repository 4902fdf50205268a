from django.urls import path

from . import directory, record_views, views

app_name = "system"
urlpatterns = [
    path("", views.index, name="index"),
    path("bedarfe/neu/", views.need_report_new, name="need-report-new"),
    path("bedarfe/meine/", views.my_need_reports, name="my-need-reports"),
    path("bedarfe/", views.inbox, name="inbox"),
    path("bedarfe/<int:pk>/", views.need_report_detail, name="need-report"),
    path("themen/", views.themes, name="themes"),
    path("themen/neu/", views.theme_edit, name="theme-new"),
    path("themen/<int:pk>/", views.theme_detail, name="theme"),
    path("themen/<int:pk>/bearbeiten/", views.theme_edit, name="theme-edit"),
    path("angebote/", record_views.record_list, {"slug": "angebote"}, name="directory"),
    path("arbeitsgruppen/", record_views.record_list, {"slug": "arbeitsgruppen"}, name="groups"),
    path("angebote/export.csv", directory.export_csv, name="directory-csv"),
    path("angebote/export.json", directory.export_json, name="directory-json"),
    path("angebote/integreat.csv", directory.export_integreat, name="directory-integreat"),
    path("angebote/druck/", directory.printable, name="directory-print"),
    path("vereinbarungen/<int:pk>/dokument/", record_views.agreement_document, name="agreement-document"),
    path("<slug:slug>/", record_views.record_list, name="records"),
    path("<slug:slug>/neu/", record_views.record_edit, name="record-new"),
    path("<slug:slug>/neu/zu/<int:parent_pk>/", record_views.record_edit, name="item-new"),
    path("<slug:slug>/<int:pk>/", record_views.record_detail, name="record"),
    path("<slug:slug>/<int:pk>/bearbeiten/", record_views.record_edit, name="record-edit"),
    path("<slug:slug>/<int:pk>/entfernen/", record_views.record_delete, name="record-delete"),
]
