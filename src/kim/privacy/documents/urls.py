from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("teilnehmende/<int:pk>/", views.participant_documents, name="participant"),
]
