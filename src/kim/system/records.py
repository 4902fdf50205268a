"""The records of the system level that coordination keeps, as one table: which model, which
fields its form has, which columns its list shows and who reads it. Pages, forms and the
service (`services.save_record`) work from this table, so that a new kind of record is one row."""

from dataclasses import dataclass, field

from django import forms
from django.db import models as db
from django.utils.translation import gettext_lazy as _

from kim.core.forms import KernModelForm

from . import models
from .services import group_member_candidates

READ_ALL = "system.read"
READ_DIRECTORY = "system.read_directory"


@dataclass(frozen=True)
class Kind:
    slug: str  # the address: /systemebene/<slug>/
    model: type
    title: str  # the list's heading
    new_label: str
    fields: tuple
    columns: tuple  # the list's columns, the first links to the record
    read: str = READ_ALL
    parent: str = ""  # the meeting or group an item belongs to; no list of its own
    template: str = "system/record.html"
    widgets: dict = field(default_factory=dict)


KINDS = [
    Kind("fallrekonstruktionen", models.CaseReconstruction, _("Case reconstructions"), _("New case reconstruction"),
         ("held_on", "focus", "vignette", "institutions", "findings", "themes"), ("held_on", "focus", "themes")),
    Kind("beteiligungsforen", models.ParticipationForum, _("Participation forums"), _("New participation forum"),
         ("held_on", "municipality", "participants", "languages", "topics_raised", "themes"),
         ("held_on", "municipality", "participants", "themes")),
    Kind("lenkungsgruppe", models.SteeringMember, _("Members of the steering group"), _("New member"),
         ("institution", "function", "person", "deputy", "active"),
         ("institution", "function", "person", "deputy", "active")),
    Kind("sitzungen", models.Meeting, _("Steering-group meetings"), _("New meeting"),
         ("held_on", "location", "minutes"), ("held_on", "location"), template="system/meeting.html"),
    Kind("tagesordnung", models.AgendaItem, _("Agenda items"), _("New agenda item"),
         ("position", "theme", "title"), (), parent="meeting"),
    Kind("beschluesse", models.Decision, _("Decisions"), _("New decision"),
         ("theme", "text", "mode", "votes_for", "votes_against", "abstentions", "follow_up", "standard"), (),
         parent="meeting"),
    Kind("arbeitsgruppen", models.WorkingGroup, _("Working and project groups"), _("New working group"),
         ("name", "mandate", "theme", "purpose", "institutions", "other_institutions", "members", "status", "results"),
         ("name", "status", "theme"), template="system/group.html"),
    Kind("gruppentreffen", models.GroupMeeting, _("Meetings of working groups"), _("New meeting of the group"),
         ("held_on", "minutes"), (), parent="group"),
    Kind("massnahmen", models.Measure, _("Measures"), _("New measure"),
         ("title", "description", "decision", "group", "theme", "owner", "starts_on", "due_on", "status", "cost",
          "indicator"),
         ("title", "status", "due_on", "owner", "theme"), template="system/measure.html"),
    Kind("vereinbarungen", models.Agreement, _("Cooperation agreements"), _("New cooperation agreement"),
         ("title", "partners", "form", "concluded_on", "review_on", "status", "decision", "theme"),
         ("title", "partners", "status", "review_on"), template="system/agreement.html"),
    Kind("angebote", models.Service, _("Service directory"), _("New service"),
         ("name", "provider_name", "description", "target_groups", "topics", "languages", "municipality", "street",
          "postcode", "city", "opening_hours", "phone", "email", "website", "valid_from", "valid_to"),
         ("name", "provider_name", "municipality", "languages"), read=READ_DIRECTORY, template="system/service.html"),
]
BY_SLUG = {kind.slug: kind for kind in KINDS}
BY_MODEL = {kind.model: kind for kind in KINDS}
# Foreign keys to records of the system level: the form lists the district's own (the scoped
# manager does), never the empty default of KernModelForm.
LINKED = {"theme": models.Theme, "themes": models.Theme, "decision": models.Decision,
          "mandate": models.Decision, "group": models.WorkingGroup}


class RecordForm(KernModelForm):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in LINKED.items():
            if name in self.fields:
                queryset = model.objects.all()
                if model is models.Decision:
                    queryset = queryset.select_related("meeting")
                self.fields[name].queryset = queryset
        if "members" in self.fields:
            self.fields["members"].queryset = group_member_candidates(user.district_id).order_by("last_name")
        if "indicator" in self.fields:
            from .indicators import indicator_choices

            self.fields["indicator"] = forms.ChoiceField(
                label=_("effect indicator"), required=False, choices=[("", "–")] + indicator_choices(user),
                help_text=_("A figure of the reports that should change through the measure: it is shown for the "
                            "year before the start and the first whole year after."))
        self.style_fields()


class AgreementForm(RecordForm):
    upload = forms.FileField(label=_("document (PDF or Word)"), required=False,
                             help_text=_("At most 5 MB. A new file replaces the stored one."))


def form_class(kind: Kind):
    widgets = {}
    for name in kind.fields:
        model_field = kind.model._meta.get_field(name)
        if model_field.many_to_many:
            widgets[name] = forms.CheckboxSelectMultiple
        elif model_field.get_internal_type() == "TextField":
            widgets[name] = forms.Textarea(attrs={"rows": 4})
    base = AgreementForm if kind.model is models.Agreement else RecordForm
    return forms.modelform_factory(kind.model, form=base, fields=list(kind.fields), widgets=widgets,
                                   formfield_callback=_form_field)


def _form_field(model_field, **kwargs):
    if isinstance(model_field, db.URLField):
        kwargs["assume_scheme"] = "https"  # Django 6's default, asked for now
    return model_field.formfield(**kwargs)
