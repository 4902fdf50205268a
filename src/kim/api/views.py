"""The REST API: the same scoping, forms and services as the pages.

Every view runs inside the token user's district scope (entered after authentication, left
when the request ends, whatever happens). Personal data comes only through
`visible_to(user)`; a read of a participant's record is audited like on the page; writes go
through the page's form (validation) and the page's service function (transaction, audit)."""

import contextlib

from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms.models import model_to_dict
from django_scopes import scope
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kim.casework import services
from kim.casework.forms import (
    AppointmentForm,
    CaseForm,
    CloseCaseForm,
    ConsentForm,
    GoalForm,
    GoalStatusForm,
    NewParticipantForm,
    ParticipantForm,
    WithdrawConsentForm,
)
from kim.casework.models import Appointment, Case, Consent, Goal, Participant
from kim.casework.reads import audit_read
from kim.casework.views import (
    appointment_values,
    case_values,
    create_participant_from_form,
    update_participant_from_form,
)
from kim.core.access import as_id, visible_or_404
from kim.core.models import CATALOGUE_MODELS
from kim.privacy.restriction import without_anonymised, without_restricted
from kim.reports.completeness import data_state
from kim.reports.framework import (
    ParamError,
    build_table,
    get_report,
    parse_params,
    registered_reports,
)
from kim.reports.renderers import table_as_dict

from .auth import InDistrict, SeesPersonalData
from .serializers import (
    MAX_ID,
    AppointmentSerializer,
    CaseSerializer,
    CatalogueEntrySerializer,
    ConsentSerializer,
    GoalSerializer,
    ParticipantSerializer,
    ParticipantSummarySerializer,
    ReportSummarySerializer,
    form_serializer,
    record_id,
)


class ScopedMixin:
    """Runs the handler inside the authenticated user's district scope. Reads of personal
    data (a page of a list, one record) are audited as on the pages (casework.reads)."""

    permission_classes = [SeesPersonalData]
    lookup_value_regex = "[0-9]{1,9}"
    model = None  # the personal-data model a viewset serves
    detail_serializer_class = None  # the whole record, where the list shows less

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        audit_read(self.request.user, page if page is not None else queryset)
        return page

    def retrieve(self, request, *args, **kwargs):
        return self.shown(self.detail_serializer_class or self.get_serializer_class(), self.get_object())

    def shown(self, serializer_class, record):
        """The answer that shows the whole `record` after a change or on its own: a read of it,
        audited as such, also when the change changed nothing (an empty PATCH). A new record's
        answer is not: its creation entry holds all of it."""
        audit_read(self.request.user, record)
        return Response(serializer_class(record).data)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no scope
            return self.model._base_manager.none()
        # A statistical trace is nobody's record: not handed out one by one either (attack V1).
        queryset = without_anonymised(self.model.objects.visible_to(self.request.user).order_by("pk"))
        if getattr(self, "action", None) == "list":
            # Lists hand records out in bulk, like an export: restricted ones (Art. 18 GDPR)
            # stay out. One record is still shown on its own, and a change of it is refused.
            queryset = without_restricted(queryset)
        return self.narrow(queryset)

    def narrow(self, queryset):
        return queryset

    def dispatch(self, request, *args, **kwargs):
        with contextlib.ExitStack() as stack:
            self._scope_stack = stack
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._scope_stack.enter_context(scope(district=request.user.district_id))


def validated(form_class, data: dict, **kwargs):
    """The page's form on the request data; its errors (German) as a 400 response."""
    form = form_class(data=data, **kwargs)
    if not form.is_valid():
        raise ValidationError({field: [error["message"] for error in errors]
                               for field, errors in form.errors.get_json_data().items()})
    return form


def service_call(function, *args, **kwargs):
    """A service refusing (Django ValidationError) becomes a 400 with its German messages."""
    try:
        return function(*args, **kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ValidationError(detail) from None


def check_body(serializer_class, data):
    """Types and required fields as the schema says; anything else is the form's job."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Erwartet wird ein JSON-Objekt."]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return {key: value for key, value in data.items() if key in serializer.fields}


def as_form_data(instance, form_class, changes):
    """For PATCH: the record's current values with the changes on top, as the form expects them."""
    fields = [f for f in form_class.base_fields if f in {f.name for f in instance._meta.get_fields()}]
    current = model_to_dict(instance, fields=fields)
    for key, value in current.items():
        if isinstance(value, list):
            current[key] = [getattr(v, "pk", v) for v in value]
    return {**{k: v for k, v in current.items() if v is not None}, **changes}


ParticipantCreate = form_serializer(NewParticipantForm, "ParticipantCreate")
ParticipantUpdate = form_serializer(ParticipantForm, "ParticipantUpdate", optional=True)
ConsentCreate = form_serializer(ConsentForm, "ConsentCreate")
WithdrawConsent = form_serializer(WithdrawConsentForm, "WithdrawConsent")
# A case manager's own cases: the form fills in the case manager; a lead names one.
CaseCreate = form_serializer(CaseForm, "CaseCreate", extra={"participant": record_id()},
                             optional_fields=("case_manager",))
CaseUpdate = form_serializer(CaseForm, "CaseUpdate", exclude=("kind",), optional=True)
CloseCase = form_serializer(CloseCaseForm, "CloseCase")
GoalCreate = form_serializer(GoalForm, "GoalCreate", extra={"case": record_id()})
GoalStatusChange = form_serializer(GoalStatusForm, "GoalStatusChange")
AppointmentCreate = form_serializer(AppointmentForm, "AppointmentCreate", extra={
    "case": record_id(required=False, allow_null=True, help_text="Fall; leer für sonstige Arbeit ohne Fall")})
AppointmentUpdate = form_serializer(AppointmentForm, "AppointmentUpdate", optional=True)


# ---------------------------------------------------------------- participants

@extend_schema_view(
    list=extend_schema(summary="Teilnehmende, die Sie sehen dürfen"),
    retrieve=extend_schema(summary="Eine Person (der Zugriff wird protokolliert)"),
)
class ParticipantViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ParticipantSummarySerializer
    detail_serializer_class = ParticipantSerializer
    model = Participant

    @extend_schema(responses={200: ParticipantSerializer})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=ParticipantCreate, responses={201: ParticipantSerializer}, summary="Person anlegen")
    def create(self, request):
        data = check_body(ParticipantCreate, request.data)
        form = validated(NewParticipantForm, data, user=request.user)
        participant = service_call(create_participant_from_form, request.user, form.cleaned_data)
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ParticipantUpdate, responses={200: ParticipantSerializer}, summary="Person ändern")
    def partial_update(self, request, pk=None):
        participant = self.get_object()
        data = check_body(ParticipantUpdate, request.data)
        form = validated(ParticipantForm, as_form_data(participant, ParticipantForm, data), instance=participant,
                         user=request.user)
        fresh = Participant.objects.visible_to(request.user).get(pk=participant.pk)
        participant = service_call(update_participant_from_form, request.user, fresh, form.cleaned_data)
        return self.shown(ParticipantSerializer, participant)


class ConsentViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ConsentSerializer
    model = Consent

    def narrow(self, queryset):
        queryset = queryset.select_related("participant")
        participant = self.request.query_params.get("participant")
        if participant:
            if as_id(participant) is None:
                raise ValidationError({"participant": ["Erwartet wird eine Zahl."]})
            queryset = queryset.filter(participant_id=as_id(participant))
        return queryset

    @extend_schema(parameters=[OpenApiParameter("participant", int, description="nur die Einwilligungen dieser Person")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=form_serializer(ConsentForm, "ConsentCreateWithParticipant",
                                           extra={"participant": record_id()}),
                   responses={201: ConsentSerializer}, summary="Einwilligung erfassen")
    def create(self, request):
        data = check_body(ConsentCreate, request.data)
        participant = visible_or_404(Participant, request.user, pk=_id(request.data, "participant"))
        form = validated(ConsentForm, data)
        consent = service_call(services.add_consent, request.user, participant, form.cleaned_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WithdrawConsent, responses={200: ConsentSerializer}, summary="Einwilligung widerrufen")
    def withdraw(self, request, pk=None):
        consent = self.get_object()
        form = validated(WithdrawConsentForm, check_body(WithdrawConsent, request.data))
        consent = service_call(services.withdraw_consent, request.user, consent, form.cleaned_data["withdrawn_on"])
        return self.shown(ConsentSerializer, consent)


def _id(data, key):
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise ValidationError({key: ["Erwartet wird die Nummer eines Datensatzes."]})
    return value


# ---------------------------------------------------------------- cases, goals, appointments

class CaseViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseSerializer
    model = Case

    def narrow(self, queryset):
        return queryset.select_related("participant")

    @extend_schema(request=CaseCreate, responses={201: CaseSerializer}, summary="Fall eröffnen")
    def create(self, request):
        data = check_body(CaseCreate, request.data)
        participant = visible_or_404(Participant, request.user, pk=_id(request.data, "participant"))
        form = validated(CaseForm, data, user=request.user)
        case = service_call(services.open_case, request.user, participant, case_values(form.cleaned_data))
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseUpdate, responses={200: CaseSerializer}, summary="Fall ändern")
    def partial_update(self, request, pk=None):
        case = self.get_object()
        data = check_body(CaseUpdate, request.data)
        form = validated(CaseForm, as_form_data(case, CaseForm, data), instance=case, user=request.user)
        fresh = Case.objects.visible_to(request.user).get(pk=case.pk)
        case = service_call(services.update_case, request.user, fresh, case_values(form.cleaned_data, with_kind=False))
        return self.shown(CaseSerializer, case)

    @extend_schema(request=CloseCase, responses={200: CaseSerializer}, summary="Fall abschließen")
    def close(self, request, pk=None):
        case = self.get_object()
        form = validated(CloseCaseForm, check_body(CloseCase, request.data), case=case)
        case = service_call(services.close_case, request.user, case, form.cleaned_data["closed_on"],
                            form.cleaned_data["closure_reason"], form.cleaned_data.get("open_goals_status", ""))
        return self.shown(CaseSerializer, case)


class GoalViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = GoalSerializer
    model = Goal

    def narrow(self, queryset):
        return queryset.select_related("case__participant")

    @extend_schema(request=GoalCreate, responses={201: GoalSerializer}, summary="Ziel vereinbaren")
    def create(self, request):
        data = check_body(GoalCreate, request.data)
        case = visible_or_404(Case, request.user, pk=_id(request.data, "case"))
        form = validated(GoalForm, data)
        goal = service_call(services.add_goal, request.user, case, dict(form.cleaned_data))
        return Response(GoalSerializer(goal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=GoalStatusChange, responses={200: GoalSerializer}, summary="Status eines Ziels setzen")
    def set_status(self, request, pk=None):
        goal = self.get_object()
        form = validated(GoalStatusForm, check_body(GoalStatusChange, request.data))
        goal = service_call(services.set_goal_status, request.user, goal, form.cleaned_data["status"],
                            form.cleaned_data["status_changed_on"])
        return self.shown(GoalSerializer, goal)


class AppointmentViewSet(ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AppointmentSerializer
    model = Appointment

    def narrow(self, queryset):
        return queryset.select_related("case__participant").prefetch_related("topics", "language_support")

    @extend_schema(request=AppointmentCreate, responses={201: AppointmentSerializer}, summary="Termin erfassen")
    def create(self, request):
        data = check_body(AppointmentCreate, request.data)
        case = visible_or_404(Case, request.user, pk=_id(request.data, "case")) if request.data.get("case") is not None else None
        form = validated(AppointmentForm, data, with_case=case is not None)
        appointment = service_call(services.record_appointment, request.user, appointment_values(form.cleaned_data),
                                   case=case)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AppointmentUpdate, responses={200: AppointmentSerializer}, summary="Termin ändern")
    def partial_update(self, request, pk=None):
        appointment = self.get_object()
        data = check_body(AppointmentUpdate, request.data)
        form = validated(AppointmentForm, as_form_data(appointment, AppointmentForm, data), instance=appointment,
                         with_case=appointment.case_id is not None)
        fresh = Appointment.objects.visible_to(request.user).get(pk=appointment.pk)
        appointment = service_call(services.update_appointment, request.user, fresh, appointment_values(form.cleaned_data))
        return self.shown(AppointmentSerializer, appointment)


# ---------------------------------------------------------------- catalogues and reports

class CatalogueView(ScopedMixin, APIView):
    permission_classes = [InDistrict]

    @extend_schema(responses={200: inline_serializer("Catalogues", {
        name: CatalogueEntrySerializer(many=True) for name in CATALOGUE_MODELS})}, summary="Die Wertelisten des Kreises")
    def get(self, request):
        return Response({
            name: list(model.objects.order_by("sort_order", "label").values("id", "key", "label", "active"))
            for name, model in CATALOGUE_MODELS.items()
        })


REPORT_PARAMETERS = [
    OpenApiParameter("year", int, description="Kalenderjahr"),
    OpenApiParameter("period", str, enum=["year", "half", "quarter", "month", "custom"]),
    OpenApiParameter("number", int, description="Nummer des Halbjahrs, Quartals oder Monats"),
    OpenApiParameter("start", OpenApiTypes.DATE), OpenApiParameter("end", OpenApiTypes.DATE),
    OpenApiParameter("reference_date", OpenApiTypes.DATE, description="Stichtag"),
    OpenApiParameter("municipality", int), OpenApiParameter("provider", int),
    OpenApiParameter("compare", str, enum=["", "1"], description="mit dem Vorjahreszeitraum vergleichen"),
    OpenApiParameter("top", int), OpenApiParameter("unit", str, enum=["mentions", "cases"]),
]


class ReportListView(ScopedMixin, APIView):
    permission_classes = [InDistrict]

    @extend_schema(responses={200: ReportSummarySerializer(many=True)}, summary="Die Berichte")
    def get(self, request):
        return Response([{"id": r.id, "title": str(r.title), "description": str(r.description)}
                         for r in registered_reports(request.user)])


class ReportView(ScopedMixin, APIView):
    """A report as on the page: aggregate readers get it with small counts suppressed."""

    permission_classes = [InDistrict]

    @extend_schema(parameters=REPORT_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, summary="Ein Bericht")
    def get(self, request, report_id):
        try:
            report = get_report(report_id)
        except ParamError:
            raise NotFound("Diesen Bericht gibt es nicht.") from None
        try:
            table = build_table(request.user, report, parse_params(request.query_params, user=request.user, report=report))
        except ParamError as exc:
            raise ValidationError({"parameters": [str(exc)]}) from None
        table.data_state = data_state(request.user) if table.suppressed_for_reader else None
        return Response(table_as_dict(table))
