from django.urls import path

from . import deadline_views, paper_views, views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("uebersicht/", views.dashboard, name="dashboard"),
    path("datenstand/", views.data_state_fragment, name="data-state"),
    path("vollstaendigkeit/", deadline_views.completeness, name="completeness"),
    path("vollstaendigkeit/stichtage/", deadline_views.deadlines, name="deadlines"),
    path("vollstaendigkeit/stichtag/neu/", deadline_views.deadline_new, name="deadline-new"),
    path("vollstaendigkeit/stichtag/<int:pk>/", deadline_views.deadline_detail, name="deadline"),
    path("vollstaendigkeit/stichtag/<int:pk>/bearbeiten/", deadline_views.deadline_edit, name="deadline-edit"),
    path("vollstaendigkeit/stichtag/<int:pk>/widerrufen/", deadline_views.deadline_withdraw, name="deadline-withdraw"),
    path("vollstaendigkeit/stichtag/<int:pk>/bestaetigen/", deadline_views.confirm, name="confirm"),
    path("vollstaendigkeit/bestaetigung/<int:pk>/anmerkung/", deadline_views.confirmation_note,
         name="confirmation-note"),
    path("sachstandsbericht/", paper_views.papers, name="papers"),
    path("sachstandsbericht/neu/", paper_views.paper_new, name="paper-new"),
    path("sachstandsbericht/<int:pk>/", paper_views.paper_detail, name="paper"),
    path("sachstandsbericht/<int:pk>/bearbeiten/", paper_views.paper_edit, name="paper-edit"),
    path("sachstandsbericht/<int:pk>/loeschen/", paper_views.paper_delete, name="paper-delete"),
    path("sachstandsbericht/<int:pk>/erstellen/<str:fmt>/", paper_views.paper_render, name="paper-render"),
    path("sachstandsbericht/auftrag/<int:pk>/", paper_views.job_status, name="job"),
    path("sachstandsbericht/auftrag/<int:pk>/herunterladen/", paper_views.job_download, name="job-download"),
    path("vorlagen/", paper_views.templates_page, name="templates"),
    path("vorlagen/standard.docx", paper_views.default_template, name="default-template"),
    path("vorlagen/<int:pk>/loeschen/", paper_views.template_delete, name="template-delete"),
    path("<str:report_id>/", views.report, name="report"),
]
