"""Module 3: the district's foreigners' and naturalisation offices, the procedures their
module-3 staff record one by one, and the monthly tallies of offices that keep their cases in
software of their own.

A procedure is personal data of its office, as a participant is of its provider: only the
module-3 staff of that office read and change it, through `Procedure.objects.visible_to(user)`
(the manager is scoped to the district like case work's, so a query outside a district scope
raises). Coordination and the steering group see counts only, through the report R13 and the
§104c pipeline, with small counts hidden."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from django_scopes.manager import DisabledQuerySet

from kim.casework.models import Participant, ScopedQuerySet, VisibleManager
from kim.core.models import District, Municipality, ReferralTarget, Role


class Office(models.Model):
    """An office with module-3 staff: the district's foreigners' office (ABH), its
    naturalisation office (EBH), or a town's own office (Troisdorf has its own ABH)."""

    class Kind(models.TextChoices):
        FOREIGNERS = "abh", _("Foreigners' office (ABH)")
        NATURALISATION = "ebh", _("Naturalisation office (EBH)")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind of office"), max_length=3, choices=Kind.choices)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("town of its own"), help_text=_("Only for a town's own office; empty for the district's."))
    # The partner a participant releases from confidentiality towards (Consent.released_to):
    # a procedure is linked to a KIM participant only under such a release.
    release_target = models.ForeignKey(
        ReferralTarget, on_delete=models.PROTECT, related_name="+", verbose_name=_("release from confidentiality"),
        help_text=_("A procedure is linked to a KIM participant only where the participant released this partner "
                    "from confidentiality."))
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="offices",
                                   verbose_name=_("module 3 staff"), limit_choices_to={"role": Role.MODULE3})
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="office_unique_name",
                                               violation_error_message=_("An office of this name already exists."))]

    def __str__(self):
        return self.name

    @property
    def audit_label(self):
        return self.name


class ProcedureKind(models.TextChoices):
    NATURALISATION = "naturalisation", _("Naturalisation")
    RESIDENCE_25A = "residence_25a", _("Residence §25a AufenthG")
    RESIDENCE_25B = "residence_25b", _("Residence §25b AufenthG")
    RESIDENCE_104C = "residence_104c", _("Opportunity residence §104c AufenthG")
    RESIDENCE_OTHER = "residence_other", _("Other residence procedure")


# The procedures a §104c holder moves on by (the pipeline's "transitions").
TRANSITION_KINDS = (ProcedureKind.RESIDENCE_25A, ProcedureKind.RESIDENCE_25B)


class Outcome(models.TextChoices):
    GRANTED = "granted", _("granted")
    REFUSED = "refused", _("refused")
    WITHDRAWN = "withdrawn", _("withdrawn or ended otherwise")


class OfficeScopedQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Module-3 staff see the records of the offices they belong to; nobody else any."""
        if not (user.is_active and user.role == Role.MODULE3 and user.district_id):
            return self.none()
        return self.filter(office__in=Office.objects.filter(staff=user, district_id=user.district_id))


class OfficeScopedManager(VisibleManager):
    def for_statistics(self, user):
        """Rows to count, never to show (R13): module-3 staff count their own offices (they
        own those records), coordination and the steering group the district (the report
        framework hides small counts for them), every other role nothing."""
        queryset = self.get_queryset()
        if isinstance(queryset, DisabledQuerySet):
            queryset.error()  # raises ScopeError: no district scope is active
        if user.role == Role.MODULE3:
            return queryset.visible_to(user)
        if user.is_active and user.district_id and user.has_perm("residence.read_figures"):
            return queryset
        return queryset.none()

    def district_figures(self, user):
        """Rows of every office of the district to count in aggregate (the §104c pipeline,
        whose figures are shown suppressed to every reader)."""
        queryset = self.get_queryset()
        if isinstance(queryset, DisabledQuerySet):
            queryset.error()
        if user.is_active and user.district_id and user.has_perm("residence.read_figures"):
            return queryset
        return queryset.none()


def office_scoped_manager():
    return ScopedManager(_manager_class=OfficeScopedManager.from_queryset(OfficeScopedQuerySet), district="district")


class Procedure(models.Model):
    """One naturalisation or residence procedure, recorded by the office's module-3 staff."""

    holds_personal_data = True  # showing one is a read (kim.casework.reads), linked or not

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("office"))
    kind = models.CharField(_("kind of procedure"), max_length=20, choices=ProcedureKind.choices)
    reference = models.CharField(_("file reference"), max_length=60, blank=True,
                                 help_text=_("The office's own file number, if any."))
    received_on = models.DateField(_("application received on"))
    complete_on = models.DateField(_("application complete on"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    by_kim_staff = models.BooleanField(_("handled by KIM staff"), default=False)
    from_104c = models.BooleanField(
        _("applicant holds a §104c title"), default=False,
        help_text=_("For §25a/b: the applicant moves on from the opportunity residence (§104c)."))
    participant = models.ForeignKey(
        Participant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("KIM participant"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = office_scoped_manager()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        indexes = [models.Index(fields=["district", "kind", "decided_on"]),
                   models.Index(fields=["office", "received_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(complete_on__isnull=True) | Q(complete_on__gte=F("received_on")),
                                   name="procedure_complete_after_received"),
            models.CheckConstraint(condition=Q(decided_on__isnull=True) | Q(decided_on__gte=F("received_on")),
                                   name="procedure_decided_after_received"),
            models.CheckConstraint(condition=Q(decided_on__isnull=True, outcome="")
                                   | (Q(decided_on__isnull=False) & ~Q(outcome="")),
                                   name="procedure_outcome_iff_decided"),
        ]

    def __str__(self):
        return self.audit_label

    @property
    def number(self):
        return f"V-{self.pk:05d}" if self.pk else ""

    @property
    def audit_label(self):
        return self.number


class MonthlyTally(models.Model):
    """An office's figures of one month and kind of procedure, where its cases are kept in
    software of its own; counted in R13 exactly as procedures are."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="tallies", verbose_name=_("office"))
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    kind = models.CharField(_("kind of procedure"), max_length=20, choices=ProcedureKind.choices)
    received = models.PositiveIntegerField(_("received"), default=0, validators=[MaxValueValidator(100000)])
    granted = models.PositiveIntegerField(_("decided: granted"), default=0, validators=[MaxValueValidator(100000)])
    refused = models.PositiveIntegerField(_("decided: refused"), default=0, validators=[MaxValueValidator(100000)])
    withdrawn = models.PositiveIntegerField(_("decided: withdrawn or ended otherwise"), default=0,
                                            validators=[MaxValueValidator(100000)])
    by_kim_staff = models.PositiveIntegerField(_("of those decided: handled by KIM staff"), default=0,
                                               validators=[MaxValueValidator(100000)])
    open_under_3 = models.PositiveIntegerField(_("open at month end: less than 3 months"), default=0,
                                               validators=[MaxValueValidator(100000)])
    open_3_6 = models.PositiveIntegerField(_("open at month end: 3 to 6 months"), default=0,
                                           validators=[MaxValueValidator(100000)])
    open_6_12 = models.PositiveIntegerField(_("open at month end: 6 to 12 months"), default=0,
                                            validators=[MaxValueValidator(100000)])
    open_over_12 = models.PositiveIntegerField(_("open at month end: more than 12 months"), default=0,
                                               validators=[MaxValueValidator(100000)])

    objects = office_scoped_manager()

    class Meta:
        ordering = ["-month", "kind"]
        verbose_name = _("monthly tally")
        verbose_name_plural = _("monthly tallies")
        constraints = [
            models.UniqueConstraint(fields=["office", "month", "kind"], name="tally_unique_office_month_kind",
                                    violation_error_message=_(
                                        "This office already has figures for this month and kind of procedure.")),
            models.CheckConstraint(condition=Q(by_kim_staff__lte=F("granted") + F("refused") + F("withdrawn")),
                                   name="tally_kim_staff_within_decided"),
        ]

    def __str__(self):
        return f"{self.office} {self.month:%m/%Y} {self.get_kind_display()}"

    @property
    def audit_label(self):
        return f"{self.month:%m/%Y} {self.kind}"

    @property
    def decided(self):
        return self.granted + self.refused + self.withdrawn

    @property
    def open_total(self):
        return self.open_under_3 + self.open_3_6 + self.open_6_12 + self.open_over_12
