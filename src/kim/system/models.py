"""The system level (module 1): what case work reports to coordination, and the generative
themes coordination distils from it for the steering group.

A need report is written by a case manager and belongs to the provider like case work: the
author and the provider's lead see its link to a case; coordination sees the report's text
(checked by kim.system.guard before sending, so it names no one) and how many cases it links,
never which. Themes belong to the district and are read by the aggregate readers."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from kim.casework.models import ScopedQuerySet, scoped_manager
from kim.core.models import District, Municipality, Provider, ReferralTarget, Topic


class LegalDomain(models.TextChoices):
    """The fields of law a structural problem lies in (the seeds' "Rechtskreise")."""

    RESIDENCE = "residence", _("residence law (AufenthG, AsylG)")
    SGB2 = "sgb2", _("basic income support (SGB II)")
    SGB3 = "sgb3", _("employment promotion (SGB III)")
    SGB8 = "sgb8", _("child and youth welfare (SGB VIII)")
    SGB12 = "sgb12", _("social assistance (SGB XII)")
    ASYLBLG = "asylblg", _("asylum seekers' benefits (AsylbLG)")
    NATIONALITY = "nationality", _("nationality law (StAG)")
    SCHOOL = "school", _("school law")
    OTHER = "other", _("other")


class NeedReportQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Authors see their own reports, the lead those of the provider, coordination every
        report of the district once it is sent (without the case it came from), the steering
        group the triaged ones; nobody else any."""
        if user.sees_personal_data:
            own = self.filter(provider_id=user.provider_id)
            return own if user.is_provider_lead else own.filter(author=user)
        if user.has_perm("system.coordinate"):
            return self.all()
        if user.has_perm("system.read"):
            return self.exclude(status=NeedReport.Status.SENT)
        return self.none()


class NeedReport(models.Model):
    """A structural problem seen in case work (Bedarfsmeldung / gemeldetes Thema)."""

    class Frequency(models.TextChoices):
        ONCE = "once", _("once")
        SEVERAL = "several", _("several times")
        OFTEN = "often", _("often")

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        ACCEPTED = "accepted", _("accepted")
        MERGED = "merged", _("merged into a theme")
        ANSWERED = "answered", _("answered")
        DECLINED = "declined", _("declined")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", verbose_name=_("provider"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("reported by"))
    challenge = models.TextField(_("challenge"), max_length=3000, help_text=_(
        "What stands in the way, in general terms: no names, dates of birth or case numbers."))
    legal_domains = models.JSONField(_("legal domains"), default=list, blank=True)
    institutions = models.ManyToManyField(ReferralTarget, blank=True, related_name="+",
                                          verbose_name=_("institutions involved"))
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("topic"))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("municipality"))
    frequency = models.CharField(_("how often seen"), max_length=10, choices=Frequency.choices,
                                 default=Frequency.ONCE)
    # The cases it was seen in: inside the provider only (see NeedReportQuerySet).
    cases = models.ManyToManyField("casework.Case", blank=True, related_name="need_reports",
                                   verbose_name=_("cases"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    response = models.TextField(_("approach / solution"), max_length=3000, blank=True)
    theme = models.ForeignKey("Theme", on_delete=models.PROTECT, null=True, blank=True, related_name="need_reports",
                              verbose_name=_("theme"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now, editable=False)
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)

    objects = scoped_manager(NeedReportQuerySet, "district")

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("need report")
        verbose_name_plural = _("need reports")
        constraints = [models.CheckConstraint(
            condition=~Q(status="merged") | Q(theme__isnull=False), name="need_report_merged_has_theme",
            violation_error_message=_("A report merged into a theme names the theme."))]

    def __str__(self):
        return self.audit_label

    @property
    def audit_label(self):
        return f"B-{self.pk or 0:04d}"


class Theme(models.Model):
    """A generative theme (generatives Thema): what coordination brings to the steering group."""

    class Status(models.TextChoices):
        COLLECTED = "collected", _("collected")
        PREPARED = "prepared", _("prepared")
        PRESENTED = "presented", _("presented to the steering group")
        DECIDED = "decided", _("decided")
        IMPLEMENTING = "implementing", _("being implemented")
        CLOSED = "closed", _("completed")
        FAILED = "failed", _("did not come about")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.COLLECTED)
    failure_reason = models.CharField(_("why it did not come about"), max_length=500, blank=True)
    planned_year = models.PositiveSmallIntegerField(
        _("planned year"), null=True, blank=True, validators=[MinValueValidator(2015), MaxValueValidator(2100)])
    planned_quarter = models.PositiveSmallIntegerField(
        _("planned quarter"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)])
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("responsible coordinator"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["status", "title"]
        verbose_name = _("generative theme")
        verbose_name_plural = _("generative themes")
        constraints = [
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(failure_reason=""),
                                   name="theme_failed_has_reason",
                                   violation_error_message=_("A theme that did not come about says why.")),
            models.UniqueConstraint(fields=["district", "title"], name="theme_unique_title",
                                    violation_error_message=_("The district already has a theme of this title.")),
        ]

    def __str__(self):
        return self.title

    @property
    def audit_label(self):
        return self.title[:120]

    @property
    def quarter_label(self):
        return f"Q{self.planned_quarter}/{self.planned_year}" if self.planned_year and self.planned_quarter else ""
