"""Forms of case work. Choices always come from the user's district and scope."""


from django import forms
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kim.core.forms import DateInput, KernForm, KernModelForm
from kim.core.models import (
    ClosureReason,
    GoalCategory,
    LanguageSupportKind,
    Municipality,
    ReferralSource,
    ReferralTarget,
    Role,
    TargetGroup,
    ThematicOffer,
    Topic,
    User,
)

from . import rules
from .models import (
    Appointment,
    Case,
    CaseKind,
    Consent,
    Goal,
    GoalStatus,
    Household,
    Need,
    Participant,
    PlanAction,
    Referral,
)


def active(model):
    return model.objects.filter(active=True)


def mark_conditionally_required(form, required_when: dict):
    """Fields that a rule requires in some cases carry the case (shown at the field by
    includes/field.html), so that they are not labelled "optional"."""
    for name, condition in required_when.items():
        if name in form.fields:
            form.fields[name].required_when = condition


def plausible_record_date(value):
    """A date of case work (consent, opening, assessment, referral): not in the future, not
    before any case work recorded here (casework.rules)."""
    problem = rules.record_date_problem(value)
    if problem:
        raise forms.ValidationError(problem)
    return value


def add_problems(form, problems: dict, fields: dict | None = None):
    """The rules' messages on the form's fields (`fields` maps a rule's field name to the
    form's), unless the field already has an error of its own."""
    for field, message in problems.items():
        name = (fields or {}).get(field, field)
        if name not in form.errors:
            form.add_error(name if name in form.fields else None, message)


def households_with_members(user):
    members = Participant.objects.visible_to(user).order_by("first_name")
    return Household.objects.visible_to(user).prefetch_related(
        Prefetch("members", queryset=members, to_attr="visible_members"))


def household_choice_label(household):
    """Families of the same name told apart by their members (those the user may see)."""
    names = ", ".join(member.first_name for member in household.visible_members)
    return f"{household.name} ({names})" if names else household.name


class ParticipantForm(KernModelForm):
    new_household = forms.CharField(
        label=_("or new household"), max_length=120, required=False,
        help_text=_("Name of a new household (family), e.g. “Familie Haddad”."),
    )

    class Meta:
        model = Participant
        fields = [
            "first_name", "last_name", "birth_date", "gender", "nationalities", "languages",
            "municipality", "entry_date", "residence_status", "phone", "email", "address", "household",
        ]
        help_texts = {
            "nationalities": _("Several separated by commas."),
            "languages": _("Languages spoken, several separated by commas."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = active(Municipality)
        self.fields["household"].queryset = households_with_members(user)
        self.fields["household"].label_from_instance = household_choice_label

    def clean(self):
        data = super().clean()
        add_problems(self, rules.participant_problems(data.get("birth_date"), data.get("entry_date")))
        return data


class NewParticipantForm(ParticipantForm):
    consent_given_on = forms.DateField(
        label=_("Consent given on"), required=False, widget=DateInput(),
        help_text=_("Required for case management. Leave empty for short or referral counselling."),
    )
    consent_released_to = forms.ModelMultipleChoiceField(
        label=_("Released from confidentiality towards"), required=False, queryset=ReferralTarget.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_duplicate = forms.BooleanField(
        label=_("Yes, this is a different person with the same name and date of birth."), required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_released_to"].queryset = active(ReferralTarget).filter(means_no_need=False)

    def clean(self):
        data = super().clean()
        add_problems(self, rules.consent_problems(data.get("consent_given_on"), data.get("birth_date")),
                     {"given_on": "consent_given_on"})
        return data


def document_language_choices():
    # The documents build on case work; their languages are a fixed list (no models).
    from kim.privacy.documents.registry import LANGUAGES

    return [("", _("only German"))] + [
        (code, f"{language.german_name} ({language.native_name})") for code, language in LANGUAGES.items()]


def released_category_choices():
    from kim.privacy.release import category_choices

    return category_choices()


class ConsentForm(KernModelForm):
    # Choices given as callables: fixed lists, known to the API schema from the class.
    released_categories = forms.MultipleChoiceField(
        label=_("Released data"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=released_category_choices,
        help_text=_("Only these data may go to the partners ticked above."),
    )
    document_language = forms.ChoiceField(
        label=_("Language of the signed version"), required=False, choices=document_language_choices,
        help_text=_("The second language besides German of the consent and information the participant "
                    "signed; the versions of both texts are recorded with the consent."),
    )

    class Meta:
        model = Consent
        fields = ["given_on", "covers_processing", "released_to", "released_categories", "note", "document_language"]
        widgets = {"released_to": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["released_to"].queryset = active(ReferralTarget).filter(means_no_need=False)
        self.fields["given_on"].initial = timezone.localdate()

    def clean_given_on(self):
        return plausible_record_date(self.cleaned_data["given_on"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("released_categories") and not cleaned.get("released_to"):
            self.add_error("released_to", _("Choose the partners the participant releases you from confidentiality "
                                            "towards: released data go to nobody else."))
        return cleaned


class WithdrawConsentForm(KernForm):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DateInput())

    def clean_withdrawn_on(self):
        return plausible_record_date(self.cleaned_data["withdrawn_on"])


class CaseForm(KernModelForm):
    confirm_target_group = forms.BooleanField(
        label=_("Yes, the target group is right nonetheless."), required=False,
        help_text=_("Only asked when the target group does not seem to fit the participant's data."),
    )

    class Meta:
        model = Case
        fields = [
            "kind", "case_manager", "municipality", "target_group", "referral_source", "opened_on",
            "screening_outcome", "title_104c_issued_on", "title_104c_expires_on",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        colleagues = User.objects.filter(
            provider_id=user.provider_id, is_active=True, role__in=[Role.CASE_MANAGER, Role.PROVIDER_LEAD]
        )
        self.fields["case_manager"].queryset = colleagues
        self.fields["case_manager"].initial = user.pk
        if not user.is_provider_lead:
            self.fields["case_manager"].disabled = True
        self.fields["municipality"].queryset = active(Municipality)
        self.fields["target_group"].queryset = active(TargetGroup)
        self.fields["referral_source"].queryset = active(ReferralSource)
        self.fields["screening_outcome"].queryset = active(ReferralTarget)
        self.fields["screening_outcome"].help_text = _("Only for screening: referred to, or “no need”.")
        self.fields["title_104c_issued_on"].help_text = _(
            "Only for a residence permit §104c: the day the title was handed out.")
        self.fields["title_104c_expires_on"].help_text = _(
            "Empty: 18 months after the issue (the title cannot be extended).")
        self.fields["opened_on"].initial = timezone.localdate()
        self.fields["target_group"].required = True
        self.fields["referral_source"].required = True
        if self.instance.pk:
            self.fields["kind"].disabled = True
        mark_conditionally_required(self, rules.conditionally_required_case_fields())
        if not self.data.get(self.add_prefix("confirm_target_group")):
            self.fields["confirm_target_group"].widget = forms.HiddenInput()

    def add_error(self, field, error):
        if field == "confirm_target_group":  # a doubt about the target group: ask for confirmation
            self.fields[field].widget = forms.CheckboxInput()
            self.style_fields()
        super().add_error(field, error)

    def clean_opened_on(self):
        return plausible_record_date(self.cleaned_data["opened_on"])

    def clean(self):
        data = super().clean()
        add_problems(self, rules.case_field_problems(data))
        if data.get("kind") != CaseKind.SCREENING:
            data["screening_outcome"] = None
        return data


class CloseCaseForm(KernForm):
    closed_on = forms.DateField(label=_("Closed on"), widget=DateInput(), initial=timezone.localdate)
    closure_reason = forms.ModelChoiceField(label=_("Closure reason"), queryset=ClosureReason.objects.none())
    open_goals_status = forms.ChoiceField(
        label=_("Outcome of the goals still open"), required=False,
        choices=[("", "---------")] + [(s.value, s.label) for s in rules.GOAL_OUTCOMES_ON_CLOSURE],
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["closure_reason"].queryset = active(ClosureReason)
        open_goals = [goal.text for goal in case.goals.filter(status=GoalStatus.OPEN)]
        if open_goals:
            field = self.fields["open_goals_status"]
            field.required = True
            field.help_text = _("Still open: %(goals)s. For a different outcome per goal, set the status of "
                                "each goal on the case page first.") % {"goals": "; ".join(open_goals)}
            self.style_fields()
        else:
            del self.fields["open_goals_status"]


class AssessmentForm(KernForm):
    """One block of fields per life domain; only domains the case manager fills in count."""

    assessed_on = forms.DateField(label=_("Date of the assessment"), widget=DateInput(), initial=timezone.localdate)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, domains, previous_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = list(domains)
        previous_items = previous_items or {}
        need_choices = [("", _("not assessed"))] + [(str(v), label) for v, label in Need.choices]
        for domain in self.domains:
            prior = previous_items.get(domain.pk)
            self.fields[f"need_{domain.pk}"] = forms.ChoiceField(
                label=_("Need"), choices=need_choices, required=False,
                initial=str(prior.need) if prior else "",
            )
            for name, label in (("situation", _("Situation")), ("resources", _("Resources")),
                                ("wishes", _("Wishes"))):
                self.fields[f"{name}_{domain.pk}"] = forms.CharField(
                    label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                    initial=getattr(prior, name, ""),
                )
        self.style_fields()

    def domain_rows(self):
        for domain in self.domains:
            yield domain, [self[f"{n}_{domain.pk}"] for n in ("need", "situation", "resources", "wishes")]

    def clean_assessed_on(self):
        return plausible_record_date(self.cleaned_data["assessed_on"])

    def items(self):
        items = []
        for domain in self.domains:
            need = self.cleaned_data.get(f"need_{domain.pk}")
            texts = {n: self.cleaned_data.get(f"{n}_{domain.pk}", "").strip()
                     for n in ("situation", "resources", "wishes")}
            if need == "" and not any(texts.values()):
                continue
            items.append({"life_domain": domain, "need": int(need or 0), **texts})
        return items

    def clean(self):
        data = super().clean()
        if not self.errors and not self.items():
            raise forms.ValidationError(_("Assess at least one life domain."))
        return data


class GoalForm(KernModelForm):
    class Meta:
        model = Goal
        fields = ["category", "text", "agreed_on", "due_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active(GoalCategory)
        self.fields["category"].error_messages["required"] = _("Every goal needs a category.")
        self.fields["agreed_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        add_problems(self, rules.goal_problems(data.get("agreed_on"), data.get("due_on")))
        return data


class GoalStatusForm(KernForm):
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices)
    status_changed_on = forms.DateField(label=_("since"), widget=DateInput(), initial=timezone.localdate)


class PlanActionForm(KernModelForm):
    class Meta:
        model = PlanAction
        fields = ["description", "responsible", "due_on", "goal"]

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].queryset = case.goals.filter(status=GoalStatus.OPEN)
        self.fields["responsible"].help_text = _("e.g. participant, case manager, job centre")


class ReferralForm(KernModelForm):
    class Meta:
        model = Referral
        fields = ["target", "referred_on", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = active(ReferralTarget).filter(means_no_need=False)
        self.fields["referred_on"].initial = timezone.localdate()

    def clean_referred_on(self):
        return plausible_record_date(self.cleaned_data["referred_on"])


class AppointmentForm(KernModelForm):
    class Meta:
        model = Appointment
        fields = [
            "date", "duration_minutes", "kind", "complexity", "other_kind", "topics", "language_support",
            "place", "thematic_offer", "session_format", "audience", "note",
        ]
        widgets = {
            "topics": forms.CheckboxSelectMultiple,
            "language_support": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, with_case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = active(Topic)
        self.fields["language_support"].queryset = active(LanguageSupportKind)
        self.fields["thematic_offer"].queryset = active(ThematicOffer)
        self.fields["date"].initial = timezone.localdate()
        self.fields["duration_minutes"].initial = 60
        if with_case:
            self.fields["kind"].initial = Appointment.Kind.COUNSELLING
            self.fields["complexity"].initial = Appointment.Complexity.COMPLEX
        else:
            # Without a case only other work can be recorded.
            self.fields["kind"].choices = [(Appointment.Kind.OTHER, Appointment.Kind.OTHER.label)]
            self.fields["kind"].initial = Appointment.Kind.OTHER
            del self.fields["complexity"]
        mark_conditionally_required(self, rules.conditionally_required_appointment_fields())

    def clean(self):
        data = super().clean()
        add_problems(self, {**rules.appointment_field_problems(data),
                            **(rules.appointment_date_problems(data["date"]) if data.get("date") else {})})
        return data


class DeputyForm(KernForm):
    deputy = forms.ModelChoiceField(label=_("Deputy"), queryset=User.objects.none())
    valid_until = forms.DateField(label=_("until"), widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = User.objects.filter(
            provider_id=user.provider_id, is_active=True, role=Role.CASE_MANAGER,
        ).exclude(pk=user.pk)


class CaseFilterForm(KernForm):
    is_filter = True  # no "optional" marks: every filter is optional
    q = forms.CharField(label=_("Search"), required=False, help_text=_("Name, participant code or case number"))
    kind = forms.ChoiceField(label=_("Kind of case"), choices=[("", _("all"))] + CaseKind.choices, required=False)
    status = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("open", _("open cases")), ("stale", _("without appointment for 90 days")),
        ("reassessment", _("re-assessment due")), ("closed", _("closed cases")), ("all", _("all cases")),
    ])
