from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views


class RecordId:
    """A record number: at most 9 digits, so that no number overflows the database's integers."""

    regex = "[0-9]{1,9}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(RecordId, "id")

app_name = "api"
router = SimpleRouter(trailing_slash=True)
router.register("participants", views.ParticipantViewSet, basename="participant")
router.register("consents", views.ConsentViewSet, basename="consent")
router.register("cases", views.CaseViewSet, basename="case")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("appointments", views.AppointmentViewSet, basename="appointment")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("catalogues/", views.CatalogueView.as_view(), name="catalogues"),
    path("reports/", views.ReportListView.as_view(), name="reports"),
    path("reports/<str:report_id>/", views.ReportView.as_view(), name="report"),
    path("consents/<id:pk>/withdraw/", views.ConsentViewSet.as_view({"post": "withdraw"}), name="consent-withdraw"),
    path("cases/<id:pk>/close/", views.CaseViewSet.as_view({"post": "close"}), name="case-close"),
    path("goals/<id:pk>/status/", views.GoalViewSet.as_view({"post": "set_status"}), name="goal-status"),
    *router.urls,
]
