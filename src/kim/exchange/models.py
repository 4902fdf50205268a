"""Imports: the saved mappings of a provider's files, and each import run with its file,
its checks and its outcome. The uploaded file is personal data of the provider: a run is
visible to the person who started it and to the provider's lead, and the file's bytes are
dropped when the run is finished."""

import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from kim.core.models import District, Provider


class ImportMapping(models.Model):
    """How a provider's files map onto the standard workbook, saved for the next file:
    {sheet kind: {standard column: column header in the file}} and, per value list,
    {value as written in the file (case-folded): label of the catalogue entry}. Without
    provider: the district's own mapping, of coordination's staffing files (sheet "Stellen")."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    name = models.CharField(_("name of the mapping"), max_length=80, default="Standard")
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    values = models.JSONField(_("values"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="import_mapping_unique_name",
                                              violation_error_message=_("Your provider already has a mapping of this name.")),
                       models.UniqueConstraint(fields=["district", "name"], condition=models.Q(provider__isnull=True),
                                               name="import_mapping_unique_district_name",
                                               violation_error_message=_("Your provider already has a mapping of this name."))]

    def __str__(self):
        return self.name

    @property
    def audit_label(self):
        return f"Zuordnung {self.name}"


class ImportRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A provider's runs: the uploader's own, all of them for the lead. The district's
        staffing runs (no provider, sheet "Stellen"): every member of coordination."""
        if user.sees_personal_data:
            own = self.filter(provider_id=user.provider_id)
            return own if user.is_provider_lead else own.filter(created_by=user)
        if user.is_active and user.district_id and user.has_perm("staffing.manage"):
            return self.filter(district_id=user.district_id, provider__isnull=True)
        return self.none()


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKING = "checking", _("being checked")
        CHECKED = "checked", _("checked")
        IMPORTING = "importing", _("being imported")
        DONE = "done", _("imported")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("deleted without import")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # Without provider and case manager: coordination's import of the district's staffing.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("case manager"),
        null=True, blank=True,
    )
    mapping = models.ForeignKey(ImportMapping, on_delete=models.PROTECT, related_name="runs")
    filename = models.CharField(_("file"), max_length=200)
    format = models.CharField(_("format"), max_length=8)
    content = models.BinaryField(_("file"), null=True, editable=False)
    # [{"name", "visible", "rows"}] of the file, and {kind: {"sheet", "header_row", "columns"}}.
    sheets = models.JSONField(_("sheets"), default=list)
    assignments = models.JSONField(_("assignment of the sheets"), default=dict, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    problem_count = models.PositiveIntegerField(_("number of problems"), default=0)
    unknown_values = models.JSONField(_("unknown values"), default=list, blank=True)
    # People on record whose name or birth date the file would change: shown before importing,
    # since a wrong identifier in the file would otherwise turn one person into another.
    identity_changes = models.JSONField(_("changes of name or birth date"), default=list, blank=True)
    summary = models.JSONField(_("result"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Who works on a busy run ("host:process id") and when it last said so: a run whose process
    # is gone, or silent for KIM_STALE_RUN_MINUTES, was interrupted and can be reset.
    worker = models.CharField(_("process"), max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    objects = ScopedManager(district="district", _manager_class=models.Manager.from_queryset(ImportRunQuerySet))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    @property
    def audit_label(self):
        return f"Import {self.pk}: {self.filename}"[:120]

    @property
    def is_staffing(self):
        """Coordination's import of the sheet "Stellen" (the district's, of no provider)."""
        return self.provider_id is None

    @property
    def is_busy(self):
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def is_stale(self):
        """Busy, but its process is gone (killed worker or command) or has been silent too long."""
        if not self.is_busy:
            return False
        if self.worker and process_is_gone(self.worker):
            return True
        silent_since = self.heartbeat_at or self.created_at
        return silent_since < timezone.now() - timedelta(minutes=settings.KIM_STALE_RUN_MINUTES)

    @property
    def can_commit(self):
        return self.status == self.Status.CHECKED and self.problem_count == 0 and bool(self.summary)


def this_process() -> str:
    """How a run names the process that works on it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_is_gone(worker: str) -> bool:
    """Whether the process named "host:pid" has ended; unknown (False) for another host."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, of another user
        return False
    return False


class ImportedRecord(models.Model):
    """A record that came from a file, under the file's identifier for it (a Termin-Kennung,
    say) or, where the file has none, under a key made of the row's content. Only such records
    are updated by a later file: a record entered by hand is never taken for a row of a file
    (unless the file names it by the number the export gave it). The export writes the file's
    identifier back, so that data moved to another district and back keeps its identifiers."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # Without provider: a record of the district's staffing (sheet "Stellen", imported by coordination).
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    sheet = models.CharField(_("sheet"), max_length=40)  # the part of the standard workbook: "Termine", "Ziele", ...
    key = models.CharField(_("identifier in the file"), max_length=300)
    from_file = models.BooleanField(_("identifier from the file"), default=True)  # False: made of the row's content, the file had no identifier
    object_id = models.PositiveBigIntegerField(_("record"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedManager(district="district")

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        constraints = [models.UniqueConstraint(fields=["provider", "sheet", "key"], name="imported_record_unique_key",
                                              violation_error_message=_("This identifier has already been imported at your provider.")),
                       models.UniqueConstraint(fields=["district", "sheet", "key"], condition=models.Q(provider__isnull=True),
                                               name="imported_record_unique_district_key",
                                               violation_error_message=_("This identifier has already been imported at your provider."))]
        indexes = [models.Index(fields=["provider", "sheet", "object_id"])]

    def __str__(self):
        return f"{self.sheet} {self.key}"

    @property
    def audit_label(self):
        return f"{self.sheet}: {self.key}"[:120]
