from django.urls import path

from . import views

app_name = "staffing"
urlpatterns = [
    path("", views.index, name="index"),
    path("foerderung/", views.funding, name="funding"),
    path("saetze/", views.rates, name="rates"),
    path("saetze/neu/", views.rate_edit, name="rate-new"),
    path("saetze/<int:pk>/bearbeiten/", views.rate_edit, name="rate-edit"),
    path("saetze/<int:pk>/entfernen/", views.rate_delete, name="rate-delete"),
    path("neu/", views.position_edit, name="position-new"),
    path("<int:pk>/", views.position_detail, name="position"),
    path("<int:pk>/bearbeiten/", views.position_edit, name="position-edit"),
    path("<int:position_pk>/<slug:kind>/neu/", views.part_edit, name="part-new"),
    path("<slug:kind>/<int:pk>/bearbeiten/", views.part_edit, name="part-edit"),
    path("<slug:kind>/<int:pk>/entfernen/", views.part_delete, name="part-delete"),
]
