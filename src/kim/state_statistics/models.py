"""The Land's statistics: the key a district signs its extracts with (district side), and the
districts the Land has registered with the extracts it imported (state side).

An extract holds what the district's coordination may publish (suppressed report tables,
staffing and funding), never a personal row; the state's tables belong to no district, so
they are not scoped: the Land's accounts have no district and read these tables only."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.core.models import District


class DistrictKey(models.Model):
    """District side: the shared secret (HMAC-SHA256) that signs the district's extracts.
    Made once (`kim statistics make-key`); the Land registers the same secret."""

    district = models.OneToOneField(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    secret = models.CharField(_("secret"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("signing key of the statistics extract")
        verbose_name_plural = _("signing keys of the statistics extract")

    def __str__(self):
        return self.key_id

    @property
    def audit_label(self):
        return f"{self.district.slug} {self.key_id}"


class RegisteredDistrict(models.Model):
    """State side: a district whose extracts the Land accepts, with its shared secret."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    key_id = models.CharField(_("key id"), max_length=16)
    secret = models.CharField(_("secret"), max_length=64)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("registered district")
        verbose_name_plural = _("registered districts")

    def __str__(self):
        return self.name

    @property
    def audit_label(self):
        return self.slug


class Extract(models.Model):
    """State side: one district's extract for one year. Importing it again replaces it."""

    source = models.ForeignKey(RegisteredDistrict, on_delete=models.PROTECT, related_name="extracts",
                               verbose_name=_("district"))
    year = models.PositiveSmallIntegerField(_("year"))
    content = models.JSONField(_("content"))
    digest = models.CharField(_("checksum"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("imported by"))

    class Meta:
        ordering = ["source__name", "-year"]
        verbose_name = _("statistics extract")
        verbose_name_plural = _("statistics extracts")
        constraints = [models.UniqueConstraint(fields=["source", "year"], name="extract_one_per_district_year")]

    def __str__(self):
        return f"{self.source} {self.year}"

    @property
    def audit_label(self):
        return f"{self.source.slug} {self.year}"
