from django.urls import path

from . import deadline_views, views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("uebersicht/", views.dashboard, name="dashboard"),
    path("vollstaendigkeit/", deadline_views.completeness, name="completeness"),
    path("vollstaendigkeit/stichtage/", deadline_views.deadlines, name="deadlines"),
    path("vollstaendigkeit/stichtag/neu/", deadline_views.deadline_new, name="deadline-new"),
    path("vollstaendigkeit/stichtag/<int:pk>/", deadline_views.deadline_detail, name="deadline"),
    path("vollstaendigkeit/stichtag/<int:pk>/bearbeiten/", deadline_views.deadline_edit, name="deadline-edit"),
    path("vollstaendigkeit/stichtag/<int:pk>/widerrufen/", deadline_views.deadline_withdraw, name="deadline-withdraw"),
    path("vollstaendigkeit/stichtag/<int:pk>/bestaetigen/", deadline_views.confirm, name="confirm"),
    path("vollstaendigkeit/bestaetigung/<int:pk>/anmerkung/", deadline_views.confirmation_note,
         name="confirmation-note"),
    path("sachstandsbericht/", views.papers, name="papers"),
    path("sachstandsbericht/neu/", views.paper_new, name="paper-new"),
    path("sachstandsbericht/<int:pk>/", views.paper_detail, name="paper"),
    path("sachstandsbericht/<int:pk>/erstellen/<str:fmt>/", views.paper_render, name="paper-render"),
    path("sachstandsbericht/auftrag/<int:pk>/", views.job_status, name="job"),
    path("sachstandsbericht/auftrag/<int:pk>/herunterladen/", views.job_download, name="job-download"),
    path("vorlagen/", views.templates_page, name="templates"),
    path("vorlagen/standard.docx", views.default_template, name="default-template"),
    path("<str:report_id>/", views.report, name="report"),
]
