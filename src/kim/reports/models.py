"""Controlling state: deadlines, providers' confirmations, committee papers and their renders.

None of this is personal data of participants; it is organisation data of the district."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from kim.core.models import District, Provider


class ReportingDeadline(models.Model):
    """The date (*Stichtag*) by which providers complete and confirm their data."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("occasion"), max_length=160, help_text=_("e.g. steering group 12/2026"))
    due_on = models.DateField(_("deadline"))
    period_start = models.DateField(_("figures from"))
    period_end = models.DateField(_("figures until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # A withdrawn deadline is no longer current; it stays, with its confirmations, in the history.
    withdrawn_at = models.DateTimeField(_("withdrawn on"), null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-due_on", "-id"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")

    def __str__(self):
        return f"{self.title} ({self.due_on:%d.%m.%Y})"

    @property
    def year(self) -> int:
        """The calendar year whose figures the providers complete and confirm."""
        return self.period_start.year

    @property
    def audit_label(self):
        return str(self)


class DataConfirmation(models.Model):
    """A provider lead's statement that the provider's data for a deadline is complete."""

    deadline = models.ForeignKey(ReportingDeadline, on_delete=models.PROTECT, related_name="confirmations")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    # Share of complete records (0..1) and case count when the lead confirmed.
    complete_share = models.DecimalField(_("share of complete records"), max_digits=5, decimal_places=4, null=True, blank=True)
    cases = models.PositiveIntegerField(_("cases counted"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        verbose_name = _("confirmation")
        verbose_name_plural = _("confirmations")
        constraints = [
            models.UniqueConstraint(fields=["deadline", "provider"], name="confirmation_once_per_provider",
                                    violation_error_message=_("The provider has already confirmed its figures for this deadline."))
        ]

    @property
    def audit_label(self):
        return f"{self.deadline.title}: {self.provider}"


class DocumentTemplate(models.Model):
    """A Word template the district uploaded for its committee papers (placeholders inside).
    It is checked in the background after the upload; only a ready template can be chosen."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("being checked")
        READY = "ready", _("ready")
        REFUSED = "refused", _("refused")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    content = models.BinaryField(_("file"), editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CHECKING)
    # Why the check refused the template, in German, for the user.
    message = models.CharField(_("message"), max_length=500, blank=True)
    checked_at = models.DateTimeField(_("checked on"), null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("Word template")
        verbose_name_plural = _("Word templates")

    def __str__(self):
        return self.name


class CommitteePaper(models.Model):
    """A status report (*Sachstandsbericht*): chosen reports with free text around them.

    `sections` is a list of {"heading", "text"} and {"report", "params"} items, in order."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year of the figures"))
    reference_date = models.DateField(_("reference date"))
    deadline = models.ForeignKey(
        ReportingDeadline, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("deadline"),
    )
    template = models.ForeignKey(
        DocumentTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("Word template"),
    )
    introduction = models.TextField(_("introduction"), blank=True)
    report_ids = models.JSONField(_("reports"), default=list)
    # A steering-group meeting whose decisions the paper shows after the reports.
    meeting = models.ForeignKey("system.Meeting", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("decisions of the meeting"))
    closing = models.TextField(_("outlook"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("status report")
        verbose_name_plural = _("status reports")

    def __str__(self):
        return self.title


class RenderJob(models.Model):
    """One rendering of a committee paper in the background, with progress and result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("in progress")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    paper = models.ForeignKey(CommitteePaper, on_delete=models.CASCADE, related_name="jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(_("format"), max_length=4, choices=[("docx", "DOCX"), ("pdf", "PDF")])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    result = models.BinaryField(_("result"), null=True, blank=True, editable=False)
    # What the rendering shows, as the paper was when it was rendered (a paper changed later
    # keeps its renderings): who may download it is judged by these, not by today's paper.
    report_ids = models.JSONField(_("reports"), default=list, editable=False)
    shows_meeting = models.BooleanField(_("shows a meeting's decisions"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at"]

    @property
    def filename(self):
        return f"sachstandsbericht-{self.paper_id}-{self.created_at:%Y%m%d}.{self.format}"
