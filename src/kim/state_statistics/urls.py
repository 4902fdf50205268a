from django.urls import path

from . import views

app_name = "statistics"
urlpatterns = [
    path("", views.index, name="index"),
    path("hochladen/", views.upload, name="upload"),
    path("bericht/<str:report_id>/", views.report, name="report"),
]
