"""The import's housekeeping, run by the worker every few minutes and by `kim cleanup`:
interrupted runs are reset, and files not imported are deleted after a few days. Both go
through the services, so that each change is audited."""

from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core import maintenance

from .models import ImportRun
from .services import expire_upload, expired_uploads, reset_interrupted


@maintenance.job("Unterbrochene Importe zurücksetzen")
def reset_interrupted_imports(dry_run: bool) -> list[str]:
    lines = []
    with scopes_disabled():
        for run in ImportRun.objects.filter(status__in=[ImportRun.Status.CHECKING, ImportRun.Status.IMPORTING]):
            if run.is_stale:
                lines.append(f"Import {run.pk} „{run.filename}“ ({run.get_status_display()}) zurückgesetzt")
                if not dry_run:
                    reset_interrupted(None, run)
    return lines


@maintenance.job("Nicht übernommene Dateien löschen")
def delete_unimported_uploads(dry_run: bool) -> list[str]:
    lines = []
    with scopes_disabled():
        for run in expired_uploads().defer("content"):
            lines.append(f"Import {run.pk} „{run.filename}“ vom {timezone.localtime(run.created_at):%d.%m.%Y}: Datei gelöscht "
                         f"(nach {settings.KIM_UPLOAD_RETENTION_DAYS} Tagen ohne Import)")
            if not dry_run:
                expire_upload(run)
    return lines
