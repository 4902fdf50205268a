"""Which directory group grants which role (and provider) in which district, and which local
account stands for which directory identity."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.core.models import PERSONAL_DATA_ROLES, District, Provider, Role

DISTRICT_ROLE_CHOICES = [(value, label) for value, label in Role.choices if value != Role.STATE]


class Source(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    LDAP = "ldap", _("LDAP directory")


def check_grant(district, role, provider) -> None:
    """The rule every grant obeys, whether it comes from a mapping or is about to be given to an
    account: a personal-data role only with a provider of the same district, every other role
    without one. Raises ValidationError with a German message."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role == Role.STATE:
        # The Land reads the districts' extracts only; its accounts are local and few.
        raise ValidationError({"role": _("A directory group grants roles of a district only.")})
    if role in PERSONAL_DATA_ROLES and provider is None:
        raise ValidationError({"provider": _(
            "A group that grants the role of case manager or provider lead must name the provider whose "
            "data the role sees.")})
    if role not in PERSONAL_DATA_ROLES and provider is not None:
        raise ValidationError({"provider": _(
            "Only case managers and provider leads belong to a provider; this role sees figures of the whole "
            "district.")})
    if provider is not None and provider.district_id != district.pk:
        raise ValidationError({"provider": _("The provider belongs to another district.")})


class DirectoryGroup(models.Model):
    """A group of the directory (an LDAP group's DN, or a value of the OIDC groups claim) and what
    it grants. A group grants exactly one thing, in exactly one district."""

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    group = models.CharField(_("group"), max_length=255,
                             help_text=_("The LDAP group's DN, or the value in the OIDC groups claim."))
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    role = models.CharField(_("role"), max_length=20, choices=DISTRICT_ROLE_CHOICES)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("provider"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["source", "group"]
        verbose_name = _("directory group")
        verbose_name_plural = _("directory groups")
        constraints = [models.UniqueConstraint(
            fields=["source", "group"], name="directory_group_unique",
            violation_error_message=_("This group already grants a role."))]

    def __str__(self):
        return f"{self.get_source_display()}: {self.group}"

    def clean(self):
        super().clean()
        if self.district_id:
            check_grant(self.district, self.role, self.provider)

    @property
    def audit_label(self):
        return self.group[:120]


class DirectoryAccount(models.Model):
    """The local account of a directory identity: found again by the directory's own key (the
    OIDC subject, the LDAP DN), never by a user name that a local account might share."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="directory_account")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    subject = models.CharField(_("directory key"), max_length=255)
    # Set when the directory took the access away (the account was switched off for it): a later
    # login that the directory grants again switches it on; a local deactivation stays.
    suspended_by_directory = models.BooleanField(_("switched off by the directory"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("directory account")
        verbose_name_plural = _("directory accounts")
        constraints = [models.UniqueConstraint(fields=["source", "subject"], name="directory_account_unique")]

    def __str__(self):
        return f"{self.get_source_display()}: {self.subject}"

    @property
    def audit_label(self):
        return self.user.username[:120]

    @property
    def district_id(self):
        return self.user.district_id

    @property
    def provider_id(self):
        return self.user.provider_id
