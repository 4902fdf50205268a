"""The audit trail as a provider lead reads it: one registry of readable action types.

An audit entry stores what happened in machine terms (object type, action, `changes` keyed by
field name, ids of related records). Here each entry becomes a German sentence ("Fall F-00042
geändert"), the record is named as people know it (participant code, case number, a user's
name), fields by their labels and values by what they mean: catalogue labels for ids, German
dates, "ja"/"nein", the labels of choices. Like pretix's log entry types, a specific action
type is registered with its sentence; everything else falls back to a sentence made from the
kind of record and the action, so that no entry is ever shown raw.

Related records are named in one query per model and page. Personal data is named through
`visible_to(reader)` only: an id the reader may not see stays a number."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .models import AuditEntry, User

Action = AuditEntry.Action

# Default sentences: what happened to a record of some kind. {object} is e.g. "Fall F-00042".
DEFAULT_SENTENCES = {
    Action.CREATE: gettext_lazy("%(object)s created"),
    Action.UPDATE: gettext_lazy("%(object)s changed"),
    Action.DELETE: gettext_lazy("%(object)s deleted"),
    Action.READ: gettext_lazy("%(object)s opened"),
    Action.IMPORT: gettext_lazy("%(object)s imported"),
    Action.LOGIN: gettext_lazy("Logged in"),
    Action.LOGIN_FAILED: gettext_lazy("Failed login as “%(label)s”"),
    Action.LOGOUT: gettext_lazy("Logged out"),
}


@dataclass(frozen=True)
class ActionType:
    """A sentence for entries of one object type and action, optionally only when `changes`
    holds a given key (e.g. a read of a participant that was an Art. 15 access)."""

    object_type: str
    action: str
    sentence: object
    when_key: str = ""


REGISTRY: list[ActionType] = []


def register(object_type: str, action: str, sentence, when_key: str = ""):
    REGISTRY.append(ActionType(object_type, action, sentence, when_key))


register("core.provider", Action.READ, gettext_lazy("All data of the provider exported"), when_key="export")
register("casework.participant", Action.READ, gettext_lazy("Access under Art. 15 GDPR prepared for %(object)s"),
         when_key="subject_access")
register("core.user", Action.UPDATE, gettext_lazy("Password of %(object)s set"), when_key="password")
register("core.user", Action.UPDATE, gettext_lazy("Second factor set up by %(object)s"), when_key="second_factor")
register("core.user", Action.UPDATE, gettext_lazy("Role of %(object)s changed"), when_key="role")
register("core.user", Action.UPDATE, gettext_lazy("Provider of %(object)s changed"), when_key="provider")
# A list page or API page of records (kim.casework.reads): `listed` names the records shown.
register("casework.participant", Action.READ, gettext_lazy("List of participants opened (%(label)s)"), when_key="listed")
register("casework.case", Action.READ, gettext_lazy("List of cases opened (%(label)s)"), when_key="listed")
register("casework.appointment", Action.READ, gettext_lazy("List of appointments opened (%(label)s)"),
         when_key="listed")
register("casework.household", Action.READ, gettext_lazy("List of households opened (%(label)s)"), when_key="listed")
register("casework.consent", Action.READ, gettext_lazy("List of consents opened (%(label)s)"), when_key="listed")
register("casework.goal", Action.READ, gettext_lazy("List of goals opened (%(label)s)"), when_key="listed")
# A case handed to another provider (kim.privacy.transfer): one entry on each side.
register("casework.case", Action.UPDATE, gettext_lazy("%(object)s handed over to another provider"),
         when_key="transferred_to")
register("casework.case", Action.CREATE, gettext_lazy("%(object)s taken over from another provider"),
         when_key="from_provider")
register("casework.referral", Action.CREATE, gettext_lazy("%(object)s recorded, released data handed over"),
         when_key="handed_over_to")
register("exchange.importrun", Action.IMPORT, gettext_lazy("File imported: %(label)s"))
register("exchange.importrun", Action.CREATE, gettext_lazy("File uploaded for import: %(label)s"))
register("exchange.importrun", Action.UPDATE, gettext_lazy("Import checked or continued: %(label)s"))

# Records that belong to a case or a person carry its number or code as their label.
PART_OF = {
    "casework.goal": gettext_lazy("Goal in case %(label)s"),
    "casework.planaction": gettext_lazy("Step of the plan in case %(label)s"),
    "casework.referral": gettext_lazy("Referral in case %(label)s"),
    "casework.assessment": gettext_lazy("Assessment in case %(label)s"),
    "casework.appointment": gettext_lazy("Appointment in case %(label)s"),
    "casework.consent": gettext_lazy("Consent of %(label)s"),
}

# Keys of `changes` that are not fields of the record.
KEY_LABELS = {
    "password": gettext_lazy("Password"),
    "second_factor": gettext_lazy("Second factor"),
    "life_domains": gettext_lazy("Life domains"),
    "import": pgettext_lazy("audit", "Import"),
    "summary": gettext_lazy("Result"),
    "export": gettext_lazy("Export"),
    "subject_access": gettext_lazy("Format"),
    "sheets": gettext_lazy("Sheets"),
    "status": gettext_lazy("Status"),
    "problems": gettext_lazy("Problems"),
    "message": gettext_lazy("Message"),
    "demo_data": gettext_lazy("Demo data"),
    "listed": gettext_lazy("Records shown"),
    "login_lock": gettext_lazy("Lock after failed logins"),
    "failed_logins": gettext_lazy("Failed logins"),
    "api_tokens_revoked": gettext_lazy("API tokens revoked"),
    "transferred_to": gettext_lazy("To provider"),
    "handed_over_to": gettext_lazy("To provider"),
    "from_provider": gettext_lazy("From provider"),
    "to_case": gettext_lazy("Case at the receiving provider"),
    "from_case": gettext_lazy("Case at the sending provider"),
    "released": gettext_lazy("Released data"),
    "neutral_fields": gettext_lazy("Fields with a neutral value"),
    "copied_goals": gettext_lazy("Goals handed over"),
    "copied_actions": gettext_lazy("Steps of the plan handed over"),
    "copied_assessments": gettext_lazy("Assessments handed over"),
    "copied_appointments": gettext_lazy("Appointments handed over"),
}
# Related models named by these keys, where the key is not a field of the record.
KEY_MODELS = {"life_domains": "core.LifeDomain", "case_manager": "core.User", "user": "core.User",
              "transferred_to": "core.Provider", "handed_over_to": "core.Provider", "from_provider": "core.Provider"}
# Keys that are a field of another record, e.g. the phase a case moved to when an
# assessment or a plan was recorded: labelled and valued as that field.
KEY_FIELDS = {"phase": ("casework.Case", "phase")}


@dataclass
class Change:
    label: str
    before: str = ""
    after: str = ""
    # A value that is not a change from one thing to another (e.g. the import it came from).
    text: str = ""


@dataclass
class ReadableEntry:
    entry: AuditEntry
    sentence: str
    actor: str
    changes: list[Change] = field(default_factory=list)


def readable(entries, reader) -> list[ReadableEntry]:
    """The entries of one page as sentences, with their records and values named."""
    entries = list(entries)
    names = _Names(reader)
    for entry in entries:
        names.collect(entry)
    names.resolve()
    return [
        ReadableEntry(entry=entry, sentence=_sentence(entry, names), actor=names.person(entry.actor),
                      changes=_changes(entry, names))
        for entry in entries
    ]


def _model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _sentence(entry, names) -> str:
    template = DEFAULT_SENTENCES.get(entry.action, gettext_lazy("%(object)s: %(action)s"))
    for action_type in REGISTRY:
        if (action_type.object_type == entry.object_type and action_type.action == entry.action
                and (not action_type.when_key or action_type.when_key in (entry.changes or {}))):
            template = action_type.sentence
            break
    return str(template) % {"object": names.record(entry), "label": entry.object_label,
                            "action": entry.get_action_display()}


def _changes(entry, names) -> list[Change]:
    model = _model(entry.object_type)
    result = []
    for key, value in (entry.changes or {}).items():
        label, field_ = _field_label(model, key)
        if key == "password":
            result.append(Change(label, text=_("set anew (not shown)")))
        elif isinstance(value, list) and len(value) == 2:
            result.append(Change(label, names.value(field_, key, value[0]), names.value(field_, key, value[1])))
        else:
            result.append(Change(label, text=names.value(field_, key, value)))
    return result


def field_label(model_field) -> str:
    """A field's label as people read it: its verbose name, or for a relation that has none of
    its own (Django then makes one of the English field name) the name of the related kind."""
    label = getattr(model_field, "verbose_name", None) or model_field.name
    automatic = model_field.name.replace("_", " ")
    if model_field.is_relation and model_field.related_model is not None and str(label) == automatic:
        label = model_field.related_model._meta.verbose_name
    label = str(label)
    return label[:1].upper() + label[1:]


def _field_label(model, key):
    """(label, model field or None) of a key of an entry's changes: a field of the record
    first, then the keys that are no field of it."""
    base = key.split(":", 1)[0]
    if model is not None:
        for name in (base, base.removesuffix("_id")):
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            return field_label(model_field), model_field
    if key in KEY_LABELS:
        return str(KEY_LABELS[key]), None
    if base in KEY_FIELDS:
        other, name = KEY_FIELDS[base]
        model_field = apps.get_model(other)._meta.get_field(name)
        return field_label(model_field), model_field
    if base == "columns":
        return _("Columns of the sheet “%(sheet)s”") % {"sheet": key.split(":", 1)[1]}, None
    return key, None


class _Names:
    """Names of related records for one page: collected first, then one query per model."""

    def __init__(self, reader):
        self.reader = reader
        self.wanted = defaultdict(set)
        self.found = {}

    def _related(self, field_, key):
        if field_ is not None and (field_.many_to_one or field_.many_to_many or field_.one_to_one):
            return field_.related_model
        if key in KEY_MODELS:
            return apps.get_model(KEY_MODELS[key])
        return None

    def collect(self, entry):
        model = _model(entry.object_type)
        if model is User and entry.object_id.isdigit():
            self.wanted[User].add(int(entry.object_id))
        for key, value in (entry.changes or {}).items():
            _label, field_ = _field_label(model, key)
            related = self._related(field_, key)
            if related is None:
                continue
            for item in _flatten(value):
                if isinstance(item, int) and not isinstance(item, bool):
                    self.wanted[related].add(item)

    def resolve(self):
        for model, ids in self.wanted.items():
            for obj in self._readable(model).filter(pk__in=ids):
                self.found[(model, obj.pk)] = self.person(obj) if model is User else _name_of(obj)

    def _readable(self, model):
        """Staff of the reader's district; personal data through the reader's scope; the
        district's organisation data and catalogues as they are."""
        if model is User:
            return User.objects.filter(district_id=self.reader.district_id)
        if hasattr(model.objects, "visible_to"):
            return model.objects.visible_to(self.reader)
        return model.objects.all()

    def person(self, user) -> str:
        if user is None:
            return _("Operator (command line)")
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username

    def record(self, entry) -> str:
        model = _model(entry.object_type)
        kind = str(model._meta.verbose_name) if model is not None else entry.object_type
        kind = kind[:1].upper() + kind[1:]
        if model is User and entry.object_id.isdigit():
            return f"{kind} {self.found.get((User, int(entry.object_id)), entry.object_label)}"
        part_of = PART_OF.get(entry.object_type)
        if part_of and entry.object_label.startswith(("F-", "TN-")):
            return str(part_of) % {"label": entry.object_label}
        return f"{kind} {entry.object_label}".strip()

    def value(self, field_, key, value) -> str:
        if value is None or value == "" or value == []:
            return "–"
        related = self._related(field_, key)
        if related is not None:
            items = [self.found.get((related, item), f"#{item}") for item in _flatten(value)]
            return ", ".join(items) if items else "–"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if field_ is not None and field_.choices:
            choices = {str(k): v for k, v in field_.flatchoices}
            if str(value) in choices:
                return str(choices[str(value)])
        if isinstance(value, dict):
            return "; ".join(f"{k}: {self.value(None, k, v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(self.value(field_, key, v) for v in value)
        if isinstance(field_, (models.DecimalField, models.FloatField)) or isinstance(value, float):
            return _number(value)
        return _date_or_text(value)


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    elif value is not None:
        yield value


# Records of participants are named by code and number, never by a person's or family's name.
NAMED_BY_AUDIT_LABEL = {"casework.participant", "casework.case", "casework.household"}


def _name_of(obj) -> str:
    if type(obj)._meta.label_lower in NAMED_BY_AUDIT_LABEL:
        return obj.audit_label
    return str(obj)


def _number(value) -> str:
    """A stored number in German notation (0,75), without trailing zeros."""
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    if number.as_tuple().exponent > 0:  # 1E+1 after normalising 10
        number = number.quantize(Decimal(1))
    return formats.number_format(number, use_l10n=True)


def _date_or_text(value) -> str:
    text = str(value)
    try:
        if len(text) == 10:
            return formats.date_format(datetime.date.fromisoformat(text), "d.m.Y")
        moment = datetime.datetime.fromisoformat(text)
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, "d.m.Y H:i")
    except ValueError:
        return text
