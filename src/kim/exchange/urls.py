from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.index, name="index"),
    path("standardmappe.xlsx", views.template_download, name="template"),
    path("export.<str:fmt>", views.provider_export, name="export"),
    path("import/", views.imports, name="imports"),
    path("import/<int:pk>/", views.import_run, name="import-run"),
    path("auskunft/<int:pk>.<str:fmt>", views.subject_access, name="subject-access"),
]
