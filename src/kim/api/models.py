"""API tokens. A token acts as its user: same role, same provider, same scope. Only a hash
of the token is stored; the token itself is shown once, when it is made."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A token that is forgotten in a script must stop working by itself.
DEFAULT_VALIDITY_DAYS = 90
MAX_VALIDITY_DAYS = 365


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def default_expiry():
    return timezone.now() + timedelta(days=DEFAULT_VALIDITY_DAYS)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=120, help_text=_("Which system uses it, e.g. “Jobcenter interface”."))
    prefix = models.CharField(_("beginning"), max_length=8, editable=False)
    key_hash = models.CharField(_("hash of the token"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("valid until"), default=default_expiry)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "active"

    @property
    def audit_label(self):
        return f"{self.prefix}… ({self.name})"[:120]

    @property
    def district_id(self):
        return self.user.district_id

    @property
    def provider_id(self):
        return self.user.provider_id

    @classmethod
    def new_key(cls) -> str:
        return "kim_" + secrets.token_urlsafe(32)
