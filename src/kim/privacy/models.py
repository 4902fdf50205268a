"""The life of personal data after it was written: a district's retention periods, erasure
requests with their review window, and the runs of the retention job."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.casework.models import Participant
from kim.core.models import District, Provider, User

# A manual erasure can be reviewed (and cancelled) for this long before it is carried out.
ERASURE_REVIEW_DAYS = 90


class RetentionPeriod(models.Model):
    """A district's own period for one deletion class, within the class's bounds."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    deletion_class = models.CharField(_("deletion class"), max_length=40)
    # In the unit of the deletion class (months or days, kim.privacy.registry.CLASSES).
    period = models.PositiveSmallIntegerField(_("period"))
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")
        constraints = [models.UniqueConstraint(fields=["district", "deletion_class"],
                                               name="retention_period_unique_class")]


def review_deadline():
    return timezone.localdate() + timedelta(days=ERASURE_REVIEW_DAYS)


class Erasure(models.Model):
    """Art. 17 GDPR: the provider lead asked that one participant be erased. The record is
    frozen at once and erased when the review window has passed, unless cancelled before."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting review")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("carried out")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="erasures")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_on = models.DateField(_("carried out on or after"), default=review_deadline)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("cancelled by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        constraints = [models.UniqueConstraint(fields=["participant"], condition=models.Q(status="pending"),
                                               name="erasure_one_pending_per_participant")]

    @property
    def audit_label(self):
        return f"Löschung {self.pk}"


class RetentionRun(models.Model):
    """One run of the retention job: when, for which day, and how many records per class
    (counts only, never a person)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    as_of = models.DateField(_("as of"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    def counts_by_title(self) -> list[tuple[str, int]]:
        from .registry import CLASSES

        return [(CLASSES[key].title if key in CLASSES else key, n) for key, n in self.counts.items() if n]

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
