from django.urls import path

from . import views

app_name = "residence"
urlpatterns = [
    path("", views.procedures, name="procedures"),
    path("verfahren/neu/", views.procedure_edit, name="procedure-new"),
    path("verfahren/<int:pk>/", views.procedure_edit, name="procedure"),
    path("monatszahlen/", views.tallies, name="tallies"),
    path("monatszahlen/neu/", views.tally_edit, name="tally-new"),
    path("monatszahlen/<int:pk>/", views.tally_edit, name="tally"),
    path("chancen-aufenthalt/", views.pipeline_page, name="pipeline"),
    path("behoerden/", views.offices, name="offices"),
    path("behoerden/neu/", views.office_edit, name="office-new"),
    path("behoerden/<int:pk>/", views.office_edit, name="office"),
]
