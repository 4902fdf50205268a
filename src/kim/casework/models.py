"""Personal data of case work: participants, households, consent, cases and their records.

Every model here is personal data. Its manager is scoped to the active district (a query
outside `django_scopes.scope(district=...)` raises `ScopeError`) and offers exactly one
narrowing to what a user may see: `Model.objects.visible_to(user)`.

Everything the reports count (kind, target group, referral source, municipality, dates,
topics, goals and statuses) lives on the case and its records, not on the participant, so
that removing a participant's personal data after retention leaves the figures unchanged.
"""

import calendar
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from django_scopes.manager import DisabledQuerySet

from kim.casework.search import participant_search_text, participant_sort_name
from kim.core.models import (
    ClosureReason,
    District,
    GoalCategory,
    LanguageSupportKind,
    LifeDomain,
    Municipality,
    Provider,
    ReferralSource,
    ReferralTarget,
    TargetGroup,
    ThematicOffer,
    Topic,
    User,
)


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):  # pragma: no cover - each model defines its own
        raise NotImplementedError


class VisibleManager(models.Manager):
    """The manager's one door to personal data: `visible_to(user)`."""

    def visible_to(self, user):
        queryset = self.get_queryset()
        if isinstance(queryset, DisabledQuerySet):
            queryset.error()  # raises ScopeError: no district scope is active
        return queryset.visible_to(user)

    def for_statistics(self, user):
        """Rows to aggregate, never to show: the reports package is the only caller.

        Readers who own personal data (case managers, provider leads) count what they may
        see; aggregate readers (coordination, steering group, module 3, administration)
        count the whole active district, and the report framework suppresses small counts
        for them. Outside a district scope this raises `ScopeError` like every query here.
        Records handed over from another provider (`handed_over`) were counted there: never here."""
        if user.sees_personal_data:
            return _counted_once(self.visible_to(user))
        queryset = self.get_queryset()
        if isinstance(queryset, DisabledQuerySet):
            queryset.error()
        if user.district_id is None or not user.is_active:
            return queryset.none()
        return _counted_once(queryset)


def _counted_once(queryset):
    if any(field.name == "handed_over" for field in queryset.model._meta.concrete_fields):
        return queryset.filter(handed_over=False)
    return queryset


def scoped_manager(queryset_class, district_path):
    return ScopedManager(
        _manager_class=VisibleManager.from_queryset(queryset_class), district=district_path
    )


def stale_before(day=None):
    """Open cases whose last appointment lies before this date count as stale."""
    return (day or timezone.localdate()) - timedelta(days=settings.KIM_STALE_CASE_DAYS)


def add_months(day, months: int):
    """The same day `months` later (or earlier), the last of the month where it has fewer days."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def reassessment_due_on(last_assessed):
    """When a case-management case assessed on `last_assessed` is due for re-assessment."""
    return add_months(last_assessed, settings.KIM_REASSESSMENT_MONTHS) if last_assessed else None


def reassessment_due_before(day=None):
    """Case-management cases last assessed before this date are due for re-assessment (on `day`)."""
    return add_months(day or timezone.localdate(), -settings.KIM_REASSESSMENT_MONTHS)


def covered_managers(user):
    """Case managers whose cases `user` works on: the user and every colleague of the same
    provider who granted the user a deputyship that is in force today."""
    today = timezone.localdate()
    grantors = DeputyGrant.objects.filter(
        deputy=user, provider_id=user.provider_id, valid_from__lte=today, valid_until__gte=today,
        revoked_on__isnull=True,
    ).values("grantor_id")
    return Q(pk=user.pk) | Q(pk__in=grantors)


def _covered_manager_ids(user):
    return User.objects.filter(covered_managers(user)).values("pk")


# ---------------------------------------------------------------- deputyship

class DeputyGrantQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.sees_personal_data:
            return self.none()
        if user.is_provider_lead:
            return self.filter(provider_id=user.provider_id)
        return self.filter(provider_id=user.provider_id).filter(Q(grantor=user) | Q(deputy=user))


class DeputyGrant(models.Model):
    """A case manager lets a colleague of the same provider work on their cases until a date."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    grantor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="deputies_granted", verbose_name=_("for")
    )
    deputy = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="deputyships", verbose_name=_("deputy")
    )
    valid_from = models.DateField(_("from"), default=timezone.localdate)
    valid_until = models.DateField(_("until"))
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    objects = ScopedManager(
        _manager_class=models.Manager.from_queryset(DeputyGrantQuerySet), district="district"
    )

    class Meta:
        ordering = ["-valid_until"]
        verbose_name = _("deputyship")
        verbose_name_plural = _("deputyships")

    @property
    def audit_label(self):
        return f"{self.grantor.username} → {self.deputy.username}"

    @property
    def is_active(self):
        today = timezone.localdate()
        return self.revoked_on is None and self.valid_from <= today <= self.valid_until


# ---------------------------------------------------------------- participants

class HouseholdQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.sees_personal_data:
            return self.none()
        own = self.filter(provider_id=user.provider_id)
        if user.is_provider_lead:
            return own
        members = Participant.objects.visible_to(user).filter(household=OuterRef("pk"))
        return own.filter(Exists(members))


class Household(models.Model):
    """A family (Familie); some districts count households rather than persons."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("household name"), max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = scoped_manager(HouseholdQuerySet, "district")

    class Meta:
        ordering = ["name"]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self):
        return self.name

    @property
    def audit_label(self):
        return f"HH-{self.pk}"


SEARCHED_FIELDS = ("first_name", "last_name", "code")


def _with_search_text(participants):
    for participant in participants:
        participant.search_text = participant_search_text(participant.first_name, participant.last_name,
                                                          participant.code)
        participant.sort_name = participant_sort_name(participant.first_name, participant.last_name)
    return participants


class ParticipantQuerySet(ScopedQuerySet):
    # Rows written in bulk (demo data, imports) bypass save(): they get their search text here.
    def bulk_create(self, objs, *args, **kwargs):
        return super().bulk_create(_with_search_text(list(objs)), *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        if set(fields) & set(SEARCHED_FIELDS):
            objs, fields = _with_search_text(list(objs)), [*fields, "search_text", "sort_name"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def visible_to(self, user):
        if not user.sees_personal_data:
            return self.none()
        own = self.filter(provider_id=user.provider_id)
        if user.is_provider_lead:
            return own
        managers = _covered_manager_ids(user)
        has_case = Case.objects.filter(participant=OuterRef("pk"), case_manager__in=managers)
        return own.filter(Q(responsible__in=managers) | Q(Exists(has_case)))


def new_participant_code() -> str:
    # No 0/O/1/I: codes are read aloud and typed by hand.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "TN-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Participant(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "f", _("female")
        MALE = "m", _("male")
        DIVERSE = "d", _("diverse")
        UNSTATED = "x", _("not stated")

    class ResidenceStatus(models.TextChoices):
        GESTATTUNG = "gestattung", _("Permission to stay (Aufenthaltsgestattung)")
        DULDUNG = "duldung", _("Toleration (Duldung)")
        PERMIT = "permit", _("Residence permit (Aufenthaltserlaubnis)")
        PERMIT_25AB = "permit_25ab", _("Residence permit §25a/b AufenthG")
        PERMIT_104C = "permit_104c", _("Residence permit §104c AufenthG")
        SETTLEMENT = "settlement", _("Settlement permit (Niederlassungserlaubnis)")
        EU = "eu", _("EU freedom of movement")
        GERMAN = "german", _("German citizenship")
        OTHER = "other", _("Other / unclear")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    responsible = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible case manager")
    )
    code = models.CharField(_("participant code"), max_length=16, editable=False)
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, default=Gender.UNSTATED)
    nationalities = models.CharField(_("nationalities"), max_length=200, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    entry_date = models.DateField(_("date of entry into Germany"), null=True, blank=True)
    residence_status = models.CharField(
        _("residence status"), max_length=20, choices=ResidenceStatus.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members",
        verbose_name=_("household"),
    )
    # The identifier the person had in the file this record was imported from, so that
    # importing the same file again finds the record instead of duplicating it.
    external_id = models.CharField(_("identifier in imported file"), max_length=100, blank=True, editable=False)
    # Name and code folded for search (kim.casework.search), kept up to date on every save.
    search_text = models.CharField(_("search text"), max_length=400, blank=True, editable=False)
    sort_name = models.CharField(_("name for sorting"), max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Art. 18 GDPR: a restricted record is shown but neither changed nor exported.
    restricted_on = models.DateField(_("processing restricted since"), null=True, blank=True, editable=False)
    restriction_reason = models.CharField(_("reason for the restriction"), max_length=300, blank=True, editable=False)
    # Set when the person's data were anonymised: what remains is the statistical trace.
    anonymised_on = models.DateField(_("anonymised on"), null=True, blank=True, editable=False)

    objects = scoped_manager(ParticipantQuerySet, "district")

    class Meta:
        ordering = ["sort_name", "pk"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="participant_unique_code",
                                              violation_error_message=_("This participant code is already taken in the district."))]
        indexes = [
            models.Index(fields=["provider", "last_name", "first_name", "birth_date"]),
            models.Index(fields=["provider", "external_id"]),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = new_participant_code()
        _with_search_text([self])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(SEARCHED_FIELDS):
            kwargs["update_fields"] = {*update_fields, "search_text", "sort_name"}
        super().save(*args, **kwargs)

    @property
    def audit_label(self):
        return self.code

    @property
    def is_restricted(self):
        """Processing restricted (Art. 18 GDPR): shown, not changed, not exported."""
        return self.restricted_on is not None

    @property
    def is_frozen(self):
        """Restricted, or anonymised (a statistical trace): nothing about it is changed."""
        return self.restricted_on is not None or self.anonymised_on is not None

    def active_consent(self, on=None):
        on = on or timezone.localdate()
        return (
            self.consents.filter(covers_processing=True, given_on__lte=on)
            .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
            .order_by("-given_on")
            .first()
        )


class ChildQuerySet(ScopedQuerySet):
    """Records that belong to a case or participant are visible with their parent."""

    parent = "case"

    def visible_to(self, user):
        parent_model = self.model._meta.get_field(self.parent).related_model
        return self.filter(**{f"{self.parent}__in": parent_model.objects.visible_to(user)})


class ConsentQuerySet(ChildQuerySet):
    parent = "participant"


class Consent(models.Model):
    """Einwilligung and Schweigepflichtentbindung: processing, and each partner released."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    given_on = models.DateField(_("consent given on"))
    covers_processing = models.BooleanField(
        _("consents to the processing of personal data"), default=True
    )
    released_to = models.ManyToManyField(
        ReferralTarget, blank=True, related_name="+",
        verbose_name=_("released from confidentiality towards"),
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # What the release from confidentiality covers (keys of kim.privacy.release.CATEGORIES);
    # empty on consents recorded before categories existed, which then release nothing.
    released_categories = models.JSONField(_("released data"), default=list, blank=True)
    # The signed documents: their language besides German and {document kind: text version}.
    document_language = models.CharField(_("language of the documents"), max_length=8, blank=True)
    document_versions = models.JSONField(_("versions of the signed texts"), default=dict, blank=True, editable=False)

    objects = scoped_manager(ConsentQuerySet, "participant__district")

    class Meta:
        ordering = ["-given_on"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    @property
    def district_id(self):
        return self.participant.district_id

    @property
    def provider_id(self):
        return self.participant.provider_id

    @property
    def audit_label(self):
        return self.participant.code

    def is_active(self, on=None):
        on = on or timezone.localdate()
        return self.covers_processing and self.given_on <= on and (
            self.withdrawn_on is None or self.withdrawn_on > on
        )


# ---------------------------------------------------------------- cases

class CaseKind(models.TextChoices):
    CASE_MANAGEMENT = "case_management", _("Case management")
    SHORT_COUNSELLING = "short_counselling", _("Short counselling")
    REFERRAL = "referral", _("Referral counselling")
    SCREENING = "screening", _("Screening §104c")


class Phase(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    AGREEMENT = "agreement", _("Goal agreement")
    IMPLEMENTATION = "implementation", _("Implementation and monitoring")
    REASSESSMENT = "reassessment", _("Re-assessment")
    CLOSED = "closed", _("Closed")


class CaseQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.sees_personal_data:
            return self.none()
        own = self.filter(provider_id=user.provider_id)
        if user.is_provider_lead:
            return own
        return own.filter(case_manager__in=_covered_manager_ids(user))

    def open(self):
        return self.filter(closed_on__isnull=True)


class Case(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    # Null only after retention has removed the participant's personal data.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, related_name="cases",
        verbose_name=_("participant"),
    )
    kind = models.CharField(_("kind of case"), max_length=20, choices=CaseKind.choices)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.INTAKE)
    case_manager = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="cases", verbose_name=_("case manager")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    target_group = models.ForeignKey(
        TargetGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("target group"),
    )
    referral_source = models.ForeignKey(
        ReferralSource, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("referral source"),
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closure_reason = models.ForeignKey(
        ClosureReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("closure reason"),
    )
    # Screening at issue of a §104c title: where the person was referred, or "no need".
    screening_outcome = models.ForeignKey(
        ReferralTarget, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("screening outcome"),
    )
    # The §104c clock: the opportunity residence title is issued for 18 months and cannot be
    # extended (kim.casework.clock warns before it runs out). Kept on the case, as everything
    # counted, so that the pipeline's figures outlive the participant's personal data.
    title_104c_issued_on = models.DateField(_("§104c title issued on"), null=True, blank=True)
    title_104c_expires_on = models.DateField(_("§104c title expires on"), null=True, blank=True)
    external_id = models.CharField(_("identifier in imported file"), max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    anonymised_on = models.DateField(_("anonymised on"), null=True, blank=True, editable=False)

    objects = scoped_manager(CaseQuerySet, "district")

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["provider", "case_manager", "closed_on"]),
            models.Index(fields=["district", "kind", "opened_on"]),
            models.Index(fields=["provider", "external_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="case_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(title_104c_expires_on__isnull=True) | Q(title_104c_issued_on__isnull=False,
                                                                   title_104c_expires_on__gte=models.F("title_104c_issued_on")),
                name="case_104c_expires_after_issue",
            ),
        ]

    def __str__(self):
        return f"{self.number} · {self.get_kind_display()}"

    @property
    def number(self):
        if self.anonymised_on:
            return str(_("anonymised case"))  # the number was on papers: it leads back to the person
        return f"F-{self.pk:05d}" if self.pk else ""

    @property
    def audit_label(self):
        return self.number

    @property
    def is_open(self):
        return self.closed_on is None

    @property
    def is_case_management(self):
        return self.kind == CaseKind.CASE_MANAGEMENT

    @property
    def is_editable(self):
        """Open, and its participant's processing not restricted (Art. 18 GDPR): the page
        offers no change the services would refuse."""
        return self.is_open and not self.anonymised_on and not (self.participant and self.participant.is_frozen)


class AssessmentQuerySet(ChildQuerySet):
    parent = "case"


class CaseChild(models.Model):
    """Shared by records of a case: district and provider come from the case."""

    class Meta:
        abstract = True

    @property
    def district_id(self):
        return self.case.district_id

    @property
    def provider_id(self):
        return self.case.provider_id

    @property
    def audit_label(self):
        return self.case.number


class Assessment(CaseChild):
    """Assessment of the situation per life domain; a re-assessment compares with the last."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Assessment")
        REASSESSMENT = "reassessment", _("Re-assessment")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    assessed_on = models.DateField(_("date"))
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.TextField(_("summary"), blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = scoped_manager(AssessmentQuerySet, "case__district")

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")


class Need(models.IntegerChoices):
    NONE = 0, _("no need")
    LOW = 1, _("low need")
    MEDIUM = 2, _("medium need")
    HIGH = 3, _("high need")
    ACUTE = 4, _("acute need")


class AssessmentItemQuerySet(ChildQuerySet):
    parent = "assessment"


class AssessmentItem(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    life_domain = models.ForeignKey(
        LifeDomain, on_delete=models.PROTECT, related_name="+", verbose_name=_("life domain")
    )
    situation = models.TextField(_("situation"), blank=True)
    resources = models.TextField(_("resources"), blank=True)
    wishes = models.TextField(_("wishes"), blank=True)
    need = models.PositiveSmallIntegerField(
        _("need"), choices=Need.choices, default=Need.NONE,
        validators=[MinValueValidator(0), MaxValueValidator(4)],
    )

    objects = scoped_manager(AssessmentItemQuerySet, "assessment__case__district")

    class Meta:
        ordering = ["life_domain__sort_order", "life_domain__label"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "life_domain"], name="item_unique_domain",
                                    violation_error_message=_("This life domain is already part of the assessment."))
        ]


class GoalStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACHIEVED = "achieved", _("achieved")
    PARTLY_ACHIEVED = "partly_achieved", _("partly achieved")
    ADAPTED = "adapted", _("adapted")
    DROPPED = "dropped", _("dropped")


class GoalQuerySet(ChildQuerySet):
    parent = "case"


class Goal(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goals")
    category = models.ForeignKey(
        GoalCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("goal category")
    )
    text = models.CharField(_("goal"), max_length=300)
    agreed_on = models.DateField(_("agreed on"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    status_changed_on = models.DateField(_("status since"))
    # A goal reached or given up at another provider, handed over with the case
    # (kim.privacy.transfer): shown to the new provider, never counted again.
    handed_over = models.BooleanField(_("handed over from another provider"), default=False, editable=False)

    objects = scoped_manager(GoalQuerySet, "case__district")

    class Meta:
        ordering = ["agreed_on", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        indexes = [models.Index(fields=["status", "status_changed_on"])]

    def __str__(self):
        return self.text


class PlanActionQuerySet(ChildQuerySet):
    parent = "case"


class PlanAction(CaseChild):
    """A step of the support plan: who does what by when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions",
        verbose_name=_("for goal"),
    )
    description = models.CharField(_("what"), max_length=300)
    responsible = models.CharField(_("who"), max_length=120)
    due_on = models.DateField(_("by when"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    objects = scoped_manager(PlanActionQuerySet, "case__district")

    class Meta:
        ordering = ["done_on", "due_on", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")


class ReferralQuerySet(ChildQuerySet):
    parent = "case"


class Referral(CaseChild):
    """A referral out to a partner agency."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    target = models.ForeignKey(
        ReferralTarget, on_delete=models.PROTECT, related_name="+", verbose_name=_("referred to")
    )
    referred_on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = scoped_manager(ReferralQuerySet, "case__district")

    class Meta:
        ordering = ["-referred_on", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")


# ---------------------------------------------------------------- appointments

class AppointmentQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if not user.sees_personal_data:
            return self.none()
        own = self.filter(provider_id=user.provider_id)
        if user.is_provider_lead:
            return own
        return own.filter(case_manager__in=_covered_manager_ids(user))


class Appointment(models.Model):
    class Kind(models.TextChoices):
        COUNSELLING = "counselling", _("Individual counselling")
        OTHER = "other", _("Other work")

    class Complexity(models.TextChoices):
        ONE_OFF = "one_off", _("one-off")
        COMPLEX = "complex", _("complex (case management)")

    class OtherKind(models.TextChoices):
        NETWORK = "network", _("Network meeting")
        WORKING_GROUP = "working_group", _("Working group")
        CASE_RECONSTRUCTION = "case_reconstruction", _("Case reconstruction")
        FORUM = "forum", _("Participation forum")
        GROUP_SESSION = "group_session", _("Group session")
        OTHER = "other", _("Other")

    class SessionFormat(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual session")
        GROUP = "group", _("Group session")
        TRAINING = "training", _("Training")

    class Audience(models.TextChoices):
        PARTICIPANTS = "participants", _("Participants")
        PROFESSIONALS = "professionals", _("Professionals")
        PARENTS = "parents", _("Parents")

    class Place(models.TextChoices):
        OFFICE = "office", _("Office")
        HOME = "home", _("Home visit")
        OUTREACH = "outreach", _("Outreach / partner agency")
        PHONE = "phone", _("Telephone")
        VIDEO = "video", _("Video")
        OTHER = "other", _("Other")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    case_manager = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("case manager")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="appointments",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COUNSELLING)
    complexity = models.CharField(
        _("counselling"), max_length=20, choices=Complexity.choices, blank=True
    )
    other_kind = models.CharField(
        _("kind of work"), max_length=30, choices=OtherKind.choices, blank=True
    )
    date = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="+", verbose_name=_("topics"),
                                    through="AppointmentTopic")
    language_support = models.ManyToManyField(
        LanguageSupportKind, blank=True, related_name="+", verbose_name=_("language support")
    )
    place = models.CharField(_("place"), max_length=20, choices=Place.choices, default=Place.OFFICE)
    # Thematic case management (R14): individual and group sessions, trainings, and who came.
    thematic_offer = models.ForeignKey(
        ThematicOffer, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("thematic offer"),
    )
    session_format = models.CharField(
        _("format"), max_length=20, choices=SessionFormat.choices, blank=True
    )
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Work done at another provider, handed over with the case (kim.privacy.transfer): shown to
    # the new provider, never counted as its work.
    handed_over = models.BooleanField(_("handed over from another provider"), default=False, editable=False)

    objects = scoped_manager(AppointmentQuerySet, "district")

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["district", "date"]), models.Index(fields=["case", "date"]),
            # The provider's (and its case managers') list of appointments, newest first: read
            # in this order up to one page instead of sorting all of a provider's appointments.
            models.Index(fields=["provider", "date", "id"], name="casework_appt_provider_date"),
        ]

    @property
    def audit_label(self):
        return self.case.number if self.case_id else f"T-{self.pk}"


class AppointmentTopic(models.Model):
    """A topic of an appointment: the table behind Appointment.topics, with the appointment's
    district and date copied, so that the topics report (R2) reads the links of one district
    and period, not every link of the installation.

    The copies are the database's own work (triggers of migration casework 0013): a link takes
    them from its appointment when it is written, however it is written (a form, the import,
    bulk loads), and an appointment that moves to another date takes its links along. Nothing in
    the application writes them."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    # Indexed together with the date (Meta.indexes), which also serves the district alone.
    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, editable=False, related_name="+",
                                 db_index=False)
    date = models.DateField(_("date"), null=True, editable=False)

    class Meta:
        db_table = "casework_appointment_topics"
        unique_together = [("appointment", "topic")]
        indexes = [models.Index(fields=["district", "date"], name="casework_topic_link_district")]
