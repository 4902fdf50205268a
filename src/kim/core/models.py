"""Organisation (districts, municipalities, providers, users), catalogues and the audit log."""


from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager


class Role(models.TextChoices):
    CASE_MANAGER = "case_manager", _("Case manager")
    PROVIDER_LEAD = "provider_lead", _("Provider lead")
    COORDINATION = "coordination", _("Coordination")
    MODULE3 = "module3", _("Foreigners' and naturalisation office")
    STEERING = "steering", _("Steering-group member")
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    # The Land: reads the districts' signed statistics extracts (kim.state_statistics), no district's rows.
    STATE = "state", _("State (Land)")


# Only these roles ever see personal data, and only of their own provider.
PERSONAL_DATA_ROLES = frozenset({Role.CASE_MANAGER, Role.PROVIDER_LEAD})


class District(models.Model):
    """The tenant: a Kreis or kreisfreie Stadt that runs KIM."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    require_two_factor = models.BooleanField(_("second factor mandatory"), default=False)
    caseload_key = models.PositiveSmallIntegerField(
        _("cases per full-time equivalent"), default=27, validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("The planning key of case management, e.g. 27 cases per full-time position."),
    )
    # Readers outside the provider that owns the data see counts from 1 to k-1 as "< k".
    suppression_k = models.PositiveSmallIntegerField(
        _("smallest count shown"), default=5, validators=[MinValueValidator(3), MaxValueValidator(20)],
        # Above 20 nearly every table of a district would be withheld: no figures at all.
        help_text=_("Counts from 1 to this value minus one are hidden in district figures (3 to 20)."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self):
        return self.name


class Municipality(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="municipalities")
    name = models.CharField(_("name"), max_length=120)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="municipality_unique_name",
                                    violation_error_message=_("A municipality of this name already exists in the district."))
        ]

    def __str__(self):
        return self.name


class Provider(models.Model):
    """Employer of case managers and data controller of its participants' data."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("District administration")
        MUNICIPALITY = "municipality", _("Town or municipality")
        WELFARE = "welfare", _("Welfare organisation")
        OTHER = "other", _("Other")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="providers")
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("short name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WELFARE)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        constraints = [
            models.UniqueConstraint(fields=["district", "slug"], name="provider_unique_slug", violation_error_message=_(
                "A provider with this short name already exists in the district.")),
            models.UniqueConstraint(fields=["district", "name"], name="provider_unique_name", violation_error_message=_(
                "A provider of this name already exists in the district.")),
        ]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A member of staff. Belongs to one district and, for case work, one provider."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="users",
        verbose_name=_("district"),
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="users",
        verbose_name=_("provider"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if "role" in field_names and "provider_id" in field_names:
            instance._stored_access = (instance.role, instance.provider_id)
        return instance

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._stored_access = (self.role, self.provider_id)

    def stored_access(self) -> tuple:
        """(role, provider id) as the database holds them, whatever a form has since written
        onto this instance: permissions are decided on what an account can reach now."""
        if not self.pk:
            return (None, None)
        if not hasattr(self, "_stored_access"):
            self._stored_access = type(self)._base_manager.filter(pk=self.pk).values_list("role", "provider_id").get()
        return self._stored_access

    def clean(self):
        super().clean()
        if self.role in PERSONAL_DATA_ROLES and not self.provider_id:
            raise ValidationError({"provider": _("Case managers and provider leads need a provider.")})
        if self.role not in PERSONAL_DATA_ROLES and self.provider_id:
            raise ValidationError({"provider": _(
                "Only case managers and provider leads belong to a provider; this role sees figures of the whole "
                "district."
            )})
        if self.role == Role.STATE and self.district_id:
            raise ValidationError({"district": _("The state's accounts belong to no district.")})
        if self.provider_id and self.district_id and self.provider.district_id != self.district_id:
            raise ValidationError({"provider": _("The provider belongs to another district.")})

    @property
    def in_own_scope(self) -> bool:
        """A district's roles work inside their district; the Land's role has none (it reads
        extracts, kim.state_statistics). An account between the two (a state user with a district,
        a district role without one) may do nothing."""
        if self.role == Role.STATE:
            return self.district_id is None and self.provider_id is None
        return self.district_id is not None

    @property
    def sees_personal_data(self) -> bool:
        return self.is_active and self.role in PERSONAL_DATA_ROLES and self.provider_id is not None

    @property
    def is_case_manager(self) -> bool:
        return self.role == Role.CASE_MANAGER

    @property
    def is_provider_lead(self) -> bool:
        return self.role == Role.PROVIDER_LEAD

    @property
    def is_district_admin(self) -> bool:
        return self.role == Role.DISTRICT_ADMIN


class CatalogueEntry(models.Model):
    """A value list entry. Statewide defaults are copied into each district, which may
    extend the list or deactivate entries; entries in use are never deleted."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    key = models.SlugField(
        _("statewide key"), max_length=60, blank=True,
        help_text=_("Identifies a statewide default across districts; empty for local entries."),
    )
    label = models.CharField(_("label"), max_length=160)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)

    objects = ScopedManager(district="district")

    class Meta:
        abstract = True
        ordering = ["sort_order", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "label"], name="%(app_label)s_%(class)s_unique_label",
                violation_error_message=_("The district's list already has an entry of this label."),
            )
        ]

    def __str__(self):
        return self.label

    @property
    def audit_label(self):
        return self.label


class TargetGroup(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")


class Topic(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("topic")
        verbose_name_plural = _("topics")


class ReferralSource(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("referral source")
        verbose_name_plural = _("referral sources")


class GoalCategory(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("goal category")
        verbose_name_plural = _("goal categories")


class ReferralTarget(CatalogueEntry):
    """A partner agency a person is referred to, or the outcome "no need"."""

    means_no_need = models.BooleanField(_("means no need"), default=False)
    # A partner that is itself a provider in this district: a referral or transfer with a
    # release hands the released data over to it inside the product (kim.privacy.release).
    provider = models.ForeignKey(
        "core.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("provider in the KIM-Fachdatenbank"),
    )

    def clean(self):
        super().clean()
        if self.provider_id and self.provider.district_id != self.district_id:
            raise ValidationError({"provider": _("The provider belongs to another district.")})
        if self.provider_id and self.means_no_need:
            raise ValidationError({"provider": _("“No need” cannot stand for a provider.")})

    class Meta(CatalogueEntry.Meta):
        verbose_name = _("referral target")
        verbose_name_plural = _("referral targets")


class ClosureReason(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("closure reason")
        verbose_name_plural = _("closure reasons")


class LanguageSupportKind(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("language support")
        verbose_name_plural = _("language support")


class LifeDomain(CatalogueEntry):
    class Meta(CatalogueEntry.Meta):
        verbose_name = _("life domain")
        verbose_name_plural = _("life domains")


class ThematicOffer(CatalogueEntry):
    """A district-wide thematic case-management offer, e.g. MuKi-S (report R14)."""

    class Meta(CatalogueEntry.Meta):
        verbose_name = _("thematic offer")
        verbose_name_plural = _("thematic offers")


CATALOGUE_MODELS = {
    "target-groups": TargetGroup,
    "topics": Topic,
    "referral-sources": ReferralSource,
    "goal-categories": GoalCategory,
    "referral-targets": ReferralTarget,
    "closure-reasons": ClosureReason,
    "language-support": LanguageSupportKind,
    "life-domains": LifeDomain,
    "thematic-offers": ThematicOffer,
}


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit entry."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def visible_to(self, user):
        """Provider leads read the trail of their provider; district administrators the
        trail of the district's organisation data (users, providers, catalogues). Nobody else reads the audit log."""
        if user.is_provider_lead and user.provider_id:
            return self.filter(provider_id=user.provider_id)
        if user.is_district_admin and user.district_id:
            return self.filter(district_id=user.district_id, object_type__startswith="core.")
        return self.none()


class AuditEntry(models.Model):
    """Append-only record of a change or a read of personal data.

    The database refuses UPDATE and DELETE on this table (triggers in the migration)."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        READ = "read", _("opened")
        IMPORT = "import", _("imported")
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("login failed")
        LOGOUT = "logout", _("logged out")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, null=True, related_name="+")
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=pgettext_lazy("audit entry: who acted", "by")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    # A pseudonymous label (participant code, case number): never a person's name.
    object_label = models.CharField(_("object"), max_length=120, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Erasure and anonymisation blacken an entry's personal values once (label, changed values);
    # the database allows that one change and nothing else (migration 0011).
    redacted = models.BooleanField(_("redacted"), default=False, db_default=False)  # raw inserts too

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted.")
