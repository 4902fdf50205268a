from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("fristen/", views.periods, name="periods"),
    path("teilnehmende/<int:pk>/loeschung/", views.erasure_new, name="erasure-new"),
    path("loeschung/<int:pk>/zuruecknehmen/", views.erasure_cancel, name="erasure-cancel"),
    path("teilnehmende/<int:pk>/einschraenken/", views.participant_restrict, name="restrict"),
    path("teilnehmende/<int:pk>/einschraenkung-aufheben/", views.participant_lift, name="lift"),
]
