"""The life of personal data after it was written: a district's retention periods, erasure
requests with their review window, and the runs of the retention job."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

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


class ErasureQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A provider's erasures are its lead's business (the lead asks for and cancels them)."""
        if not (user.is_provider_lead and user.sees_personal_data):
            return self.none()
        return self.filter(provider_id=user.provider_id)

    def pending_for(self, participant):
        """The participant's erasure awaiting its review window, or None."""
        return self.filter(participant_id=participant.pk, status=Erasure.Status.PENDING).first()


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
    # Whether the request froze the record itself (it was not restricted before): only then
    # does cancelling it lift the freeze. Told by this flag, never by a reason's wording.
    froze_record = models.BooleanField(_("froze the record"), default=False, editable=False)

    objects = ErasureQuerySet.as_manager()

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
    # "host:pid" of the process doing the run: a run whose process is gone (kill -9) is over.
    worker = models.CharField(_("process"), max_length=120, blank=True)

    def counts_by_title(self) -> list[tuple[str, int]]:
        from .registry import CLASSES

        names = {"participants": _("people without a remaining case")}
        return [(CLASSES[key].title if key in CLASSES else names.get(key, key), n)
                for key, n in self.counts.items() if n]

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")


class TransferQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A transfer is seen by whoever sees one of its two cases: the sender's or the receiver's."""
        from kim.casework.models import Case

        if not user.sees_personal_data:
            return self.none()
        cases = Case.objects.visible_to(user).values("pk")
        return self.filter(models.Q(source_case__in=cases) | models.Q(target_case__in=cases))


class Transfer(models.Model):
    """A case handed to another provider with the participant's release from confidentiality
    towards it (kim.privacy.transfer): a transfer closes the sender's case, a referral's
    handover leaves it open. The receiver's copy holds only what the release covered."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", _("transfer of the case")
        HANDOVER = "handover", _("handover with a referral")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sender = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", verbose_name=_("from provider"))
    receiver = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", verbose_name=_("to provider"))
    source_case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="transfers_out")
    target_case = models.OneToOneField("casework.Case", on_delete=models.PROTECT, related_name="transfer_in")
    transferred_on = models.DateField(_("date of the transfer"))
    # What the release covered ({kim.privacy.release.CATEGORIES keys}) and which required fields
    # of the receiver's record hold a neutral value because they were not released.
    categories = models.JSONField(_("released data"), default=list, blank=True)
    neutral_fields = models.JSONField(_("fields with a neutral value"), default=list, blank=True)
    note = models.CharField(_("note to the receiver"), max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedManager(_manager_class=models.Manager.from_queryset(TransferQuerySet), district="district")

    class Meta:
        ordering = ["-transferred_on", "-pk"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            # Two transfers of one case at once: the second fails here, not with a second copy.
            models.UniqueConstraint(fields=["source_case"], condition=models.Q(kind="transfer"),
                                    name="transfer_once_per_case"),
            models.UniqueConstraint(fields=["source_case", "receiver"], condition=models.Q(kind="handover"),
                                    name="handover_once_per_receiver"),
        ]

    @property
    def audit_label(self):
        return f"{self.source_case.number} → {self.target_case.number}"

    @property
    def category_labels(self):
        from .release import CATEGORIES

        return [label for key, (label, _fields) in CATEGORIES.items() if key in self.categories]

    @property
    def neutral_labels(self):
        return [Participant._meta.get_field(name).verbose_name for name in self.neutral_fields]
