"""The system level (module 1): what case work reports to coordination, and the generative
themes coordination distils from it for the steering group.

A need report is written by a case manager and belongs to the provider like case work: the
author and the provider's lead see its link to a case; coordination sees the report's text
(checked by kim.system.guard before sending, so it names no one) and how many cases it links,
never which. Themes belong to the district and are read by the aggregate readers."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
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
    # A report figure as evidence: "<report id>|<row key>" (kim.system.indicators).
    evidence_figure = models.CharField(_("report figure as evidence"), max_length=80, blank=True)
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


class DistrictRecord(models.Model):
    """A record of the district's system level, kept by coordination and read by the steering
    group (and, for groups, by their members): no personal data of participants."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))

    objects = ScopedManager(district="district")

    class Meta:
        abstract = True

    def __str__(self):
        return self.audit_label

    @property
    def audit_label(self):
        return str(getattr(self, "title", "") or getattr(self, "name", "") or self.pk)[:120]


class CaseReconstruction(DistrictRecord):
    """A case reconstruction (Fallrekonstruktion): a case told anonymously to the institutions
    involved, to see where the system failed it."""

    held_on = models.DateField(_("date"))
    focus = models.CharField(_("focus"), max_length=200, help_text=_("For example “target group South-Eastern Europe”."))
    vignette = models.TextField(_("anonymised vignette"), max_length=5000, help_text=_(
        "The case in general terms: no names, dates of birth, codes or case numbers."))
    institutions = models.ManyToManyField(ReferralTarget, blank=True, related_name="+",
                                          verbose_name=_("institutions present"))
    findings = models.TextField(_("findings"), max_length=5000, blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="reconstructions",
                                    verbose_name=_("generative themes"))

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("case reconstruction")
        verbose_name_plural = _("case reconstructions")

    @property
    def audit_label(self):
        return f"{self.held_on:%d.%m.%Y} {self.focus}"[:120]


class ParticipationForum(DistrictRecord):
    """A participation forum (Beteiligungsforum): people of the target groups say what they
    need; recorded by their number, never their names."""

    held_on = models.DateField(_("date"))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("town"))
    participants = models.PositiveIntegerField(_("number of participants"), validators=[MaxValueValidator(10000)])
    languages = models.CharField(_("languages"), max_length=300, blank=True)
    topics_raised = models.TextField(_("topics raised"), max_length=5000)
    themes = models.ManyToManyField(Theme, blank=True, related_name="forums", verbose_name=_("generative themes"))

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("participation forum")
        verbose_name_plural = _("participation forums")

    @property
    def audit_label(self):
        return f"{self.held_on:%d.%m.%Y} {self.municipality or ''}".strip()[:120]


class SteeringMember(DistrictRecord):
    """A seat in the steering group (Lenkungsgruppe): the institution, its person and deputy."""

    institution = models.CharField(_("institution"), max_length=200)
    function = models.CharField(_("function"), max_length=200, blank=True)
    person = models.CharField(_("member"), max_length=200)
    deputy = models.CharField(_("deputy"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-active", "institution", "person"]
        verbose_name = _("steering-group member")
        verbose_name_plural = _("steering-group members")

    @property
    def audit_label(self):
        return f"{self.institution}: {self.person}"[:120]


class Meeting(DistrictRecord):
    """A meeting of the steering group, with its agenda, minutes and decisions."""

    held_on = models.DateField(_("date"))
    location = models.CharField(_("place"), max_length=200, blank=True)
    minutes = models.TextField(_("minutes"), max_length=20000, blank=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("steering-group meeting")
        verbose_name_plural = _("steering-group meetings")

    def __str__(self):
        return _("Steering group on %(date)s") % {"date": f"{self.held_on:%d.%m.%Y}"}

    @property
    def audit_label(self):
        return f"{self.held_on:%d.%m.%Y}"


class AgendaItem(DistrictRecord):
    """An item of a meeting's agenda: a theme brought to the steering group, or another item."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda", verbose_name=_("meeting"))
    position = models.PositiveSmallIntegerField(_("position"), default=1, validators=[MaxValueValidator(99)])
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items",
                              verbose_name=_("generative theme"))
    title = models.CharField(_("other item"), max_length=200, blank=True,
                             help_text=_("Where the item is not a theme, for example a report of a working group."))

    class Meta:
        ordering = ["meeting", "position", "pk"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [models.CheckConstraint(
            condition=Q(theme__isnull=False) | ~Q(title=""), name="agenda_item_names_something",
            violation_error_message=_("An agenda item is a theme or has a title."))]

    @property
    def label(self):
        return self.title or str(self.theme)

    @property
    def audit_label(self):
        return f"{self.meeting.audit_label} TOP {self.position}: {self.label}"[:120]


class Decision(DistrictRecord):
    """What the steering group decided (Beschluss), and what follows from it."""

    class Mode(models.TextChoices):
        CONSENSUS = "consensus", _("consensus")
        VOTE = "vote", _("vote")

    class FollowUp(models.TextChoices):
        GROUP = "group", _("a working group")
        MEASURE = "measure", _("a measure")
        AGREEMENT = "agreement", _("a cooperation agreement")
        STANDARD = "standard", _("a standard")
        NONE = "none", _("nothing further")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions",
                                verbose_name=_("meeting"))
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions",
                              verbose_name=_("generative theme"))
    text = models.TextField(_("decision"), max_length=5000)
    mode = models.CharField(_("decided by"), max_length=10, choices=Mode.choices, default=Mode.CONSENSUS)
    votes_for = models.PositiveSmallIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("votes against"), null=True, blank=True)
    abstentions = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    follow_up = models.CharField(_("what follows"), max_length=10, choices=FollowUp.choices, default=FollowUp.NONE)
    standard = models.CharField(_("standard"), max_length=300, blank=True,
                                help_text=_("For example the quality standards of case management."))

    class Meta:
        ordering = ["meeting__held_on", "pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    @property
    def audit_label(self):
        return f"{self.meeting.audit_label}: {self.text}"[:120]


class GroupStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    ACTIVE = "active", _("active")
    FINISHED = "finished", _("finished")


class WorkingGroupQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Coordination and the steering group read every group of the district; case
        managers and module 3 staff the groups they are members of."""
        if user.has_perm("system.read"):
            return self.all()
        if user.has_perm("system.read_own_groups"):
            return self.filter(members=user)
        return self.none()


class WorkingGroup(DistrictRecord):
    """A working or project group (e.g. DELFIN 4, Projektgruppe Träger Case Management)."""

    name = models.CharField(_("name"), max_length=200)
    mandate = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="groups", verbose_name=_("mandate (decision)"))
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="groups",
                              verbose_name=_("generative theme"))
    purpose = models.TextField(_("mandate"), max_length=3000, blank=True)
    institutions = models.ManyToManyField(ReferralTarget, blank=True, related_name="+",
                                          verbose_name=_("member institutions"))
    other_institutions = models.CharField(_("other member institutions"), max_length=500, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="working_groups",
                                     verbose_name=_("members with an account"))
    status = models.CharField(_("status"), max_length=10, choices=GroupStatus.choices, default=GroupStatus.ACTIVE)
    results = models.TextField(_("results"), max_length=5000, blank=True)

    objects = ScopedManager(_manager_class=models.Manager.from_queryset(WorkingGroupQuerySet), district="district")

    class Meta:
        ordering = ["status", "name"]
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="working_group_unique_name",
                                               violation_error_message=_("The district already has a group of this name."))]


class GroupMeeting(DistrictRecord):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="meetings",
                              verbose_name=_("working group"))
    held_on = models.DateField(_("date"))
    minutes = models.TextField(_("short minutes"), max_length=5000, blank=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("meeting of a working group")
        verbose_name_plural = _("meetings of working groups")

    @property
    def audit_label(self):
        return f"{self.group.name} {self.held_on:%d.%m.%Y}"[:120]


class MeasureQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.has_perm("system.read"):
            return self.all()
        if user.has_perm("system.read_own_groups"):
            return self.filter(group__members=user)
        return self.none()


class Measure(DistrictRecord):
    """A measure (Maßnahme) that follows a decision or a group's work, with the figure that
    should show its effect."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=3000, blank=True)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="measures", verbose_name=_("decision"))
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="measures", verbose_name=_("working group"))
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="measures",
                              verbose_name=_("generative theme"))
    owner = models.CharField(_("owner"), max_length=200)
    starts_on = models.DateField(_("start"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    cost = models.DecimalField(_("cost (EUR)"), max_digits=10, decimal_places=2, null=True, blank=True,
                               validators=[MinValueValidator(0)],
                               help_text=_("From the lump sum for measures from the interface analysis."))
    # A figure the reports compute: "<report id>|<row key>" (kim.system.indicators).
    indicator = models.CharField(_("effect indicator"), max_length=80, blank=True)

    objects = ScopedManager(_manager_class=models.Manager.from_queryset(MeasureQuerySet), district="district")

    class Meta:
        ordering = ["due_on", "title"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    @property
    def is_overdue(self):
        return self.due_on is not None and self.due_on < timezone.localdate() and self.status in (
            self.Status.PLANNED, self.Status.RUNNING)


# An agreement's review shows on coordination's start page this many days ahead.
REVIEW_NOTICE_DAYS = 30


class Agreement(DistrictRecord):
    """A cooperation agreement (Kooperationsvereinbarung) between the district and partners."""

    class Form(models.TextChoices):
        WRITTEN = "written", _("written")
        ORAL = "oral", _("oral")

    class Status(models.TextChoices):
        DRAFT = "draft", _("in negotiation")
        IN_FORCE = "in_force", _("in force")
        ENDED = "ended", _("ended")

    title = models.CharField(_("subject"), max_length=300)
    partners = models.CharField(_("partners"), max_length=500)
    form = models.CharField(_("form"), max_length=10, choices=Form.choices, default=Form.WRITTEN)
    concluded_on = models.DateField(_("concluded on"), null=True, blank=True)
    review_on = models.DateField(_("review date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="agreements", verbose_name=_("decision"))
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, null=True, blank=True, related_name="agreements",
                              verbose_name=_("generative theme"))
    document = models.BinaryField(_("document"), null=True, blank=True, editable=False)
    document_name = models.CharField(_("file name"), max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["review_on", "title"]
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")

    @property
    def review_due(self):
        return (self.review_on is not None and self.status != self.Status.ENDED
                and self.review_on <= timezone.localdate() + timedelta(days=REVIEW_NOTICE_DAYS))


class Service(DistrictRecord):
    """An entry of the service directory (Angebotsübersicht) of the local counselling structure."""

    name = models.CharField(_("name"), max_length=200)
    provider_name = models.CharField(_("provider"), max_length=200)
    description = models.TextField(_("description"), max_length=3000, blank=True)
    target_groups = models.CharField(_("target groups"), max_length=300, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="+", verbose_name=_("topics"))
    languages = models.CharField(_("languages"), max_length=300, blank=True)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("municipality"))
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True,
                                validators=[RegexValidator(r"^\d{5}$", _("A postcode has five digits."))])
    city = models.CharField(_("town"), max_length=100, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [models.CheckConstraint(
            condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            name="service_valid_range", violation_error_message=_("“Valid to” lies after “valid from”."))]

    @property
    def is_current(self):
        today = timezone.localdate()
        return (self.valid_from is None or self.valid_from <= today) and (self.valid_to is None or self.valid_to >= today)
