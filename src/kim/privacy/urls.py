from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("teilnehmende/<int:pk>/einschraenken/", views.participant_restrict, name="restrict"),
    path("teilnehmende/<int:pk>/einschraenkung-aufheben/", views.participant_lift, name="lift"),
]
