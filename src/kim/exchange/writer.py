"""Writing a checked plan, the last step of the import (read → map → check → write).

Everything in one transaction (the caller's): new records are created, records the check
matched are updated where the file differs, unchanged records stay untouched, so that the
same file twice changes nothing. Every created or changed record gets its audit entry, as an
import, and every created one its identifier from the file (exchange.ImportedRecord). Nothing
is looked up here: what a row updates, the check has decided."""

from collections import Counter

from django.db import transaction

from kim.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    Consent,
    Goal,
    GoalStatus,
    Household,
    Participant,
    Phase,
    PlanAction,
    Referral,
)
from kim.core import audit
from kim.core.models import AuditEntry

from .checks import APPOINTMENT_FIELDS as EXISTING_APPOINTMENT_FIELDS
from .models import ImportedRecord
from .plan import Plan

# {column of the workbook: field of the record}, per part
PARTICIPANT_FIELDS = {
    "Vorname": "first_name", "Nachname": "last_name", "Geburtsdatum": "birth_date", "Geschlecht": "gender",
    "Staatsangehörigkeit": "nationalities", "Sprachen": "languages", "Kommune": "municipality_id",
    "Einreisedatum": "entry_date", "Aufenthaltsstatus": "residence_status", "Telefon": "phone", "E-Mail": "email",
    "Anschrift": "address", "Verantwortlich": "responsible_id",
}
CONSENT_FIELDS = {"erteilt am": "given_on", "Verarbeitung": "covers_processing", "widerrufen am": "withdrawn_on",
                  "Bemerkung": "note"}
CASE_FIELDS = {
    "Art": "kind", "Zielgruppe": "target_group_id", "Zugangsweg": "referral_source_id", "Kommune": "municipality_id",
    "Beginn": "opened_on", "Phase": "phase", "Ende": "closed_on", "Abschlussgrund": "closure_reason_id",
    "Verwiesen an": "screening_outcome_id", "Case Manager*in": "case_manager_id",
}
ASSESSMENT_FIELDS = {"Art": "kind", "Datum": "assessed_on", "Zusammenfassung": "summary", "verfasst von": "author_id"}
ITEM_FIELDS = {"Bedarf": "need", "Situation": "situation", "Ressourcen": "resources", "Wünsche": "wishes"}
GOAL_FIELDS = {"Zielkategorie": "category_id", "Beschreibung": "text", "vereinbart am": "agreed_on",
               "fällig am": "due_on", "Status": "status", "Status seit": "status_changed_on"}
ACTION_FIELDS = {"Was": "description", "Wer": "responsible", "bis": "due_on", "erledigt am": "done_on"}
REFERRAL_FIELDS = {"Verwiesen an": "target_id", "Datum": "referred_on", "Bemerkung": "note"}
APPOINTMENT_FIELDS = {
    "Datum": "date", "komplex": "complexity", "Dauer (Minuten)": "duration_minutes", "Art der Tätigkeit": "other_kind",
    "Ort": "place", "Thematisches Angebot": "thematic_offer_id", "Format": "session_format",
    "Zielgruppe des Angebots": "audience", "Bemerkung": "note", "Case Manager*in": "case_manager_id",
}
# What an empty cell means for a field: blank text, or the field's default.
TEXT_FIELDS = {"nationalities", "languages", "residence_status", "complexity", "phone", "email", "address", "note",
               "summary", "situation", "resources", "wishes", "other_kind", "session_format", "audience"}
DEFAULTS = {"gender": Participant.Gender.UNSTATED, "covers_processing": True, "need": 0, "status": GoalStatus.OPEN,
            "place": Appointment.Place.OFFICE}
KEPT_WHEN_EMPTY = {"responsible_id", "case_manager_id", "author_id"}  # an empty cell changes no one's caseload
BATCH = 2000


def write(plan: Plan, actor, case_manager, label: str) -> dict:
    """Write `plan` (which must have no problem) as `actor`; {sheet: {outcome: count}}."""
    assert plan.ok, "only a plan without problems is written"
    records = plan.records
    with transaction.atomic():
        writer = _Writer(actor, case_manager, label, plan)
        persons = writer.participants(records.get("Teilnehmende", []))
        writer.consents(records.get("Einwilligungen", []), persons)
        cases = writer.cases(records.get("Fälle", []), persons)
        writer.assessments(records.get("Assessments", []), cases)
        writer.items(records.get("Lebensbereiche", []))
        writer.goals(records.get("Ziele", []), cases)
        writer.actions(records.get("Maßnahmen", []), cases)
        writer.referrals(records.get("Verweise", []), cases)
        writer.appointments(records.get("Termine", []), cases)
        writer.flush_audit()
        writer.flush_provenance()
    return {kind: dict(counter) for kind, counter in writer.counts.items()}


class _Writer:
    """Writes in bulk; every created or changed record gets its audit entry."""

    def __init__(self, actor, case_manager, label: str, plan: Plan):
        self.actor = actor
        self.case_manager = case_manager
        self.district_id = actor.district_id
        self.provider_id = actor.provider_id
        self.label = label
        self.households = dict(plan.households)
        self.audit = []
        self.provenance, self.moved_provenance = [], []
        self.counts = {}

    def _count(self, kind, outcome):
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def _audit(self, obj, action, changes, label=None):
        # Collected and written in bulk; district, provider and label given, as reading them
        # from a record of a case would cost a query each.
        self.audit.append(audit.entry(self.actor, action, obj, changes={"import": self.label, **changes},
                                      district_id=self.district_id, provider_id=self.provider_id, label=label))
        if len(self.audit) >= BATCH:
            self.flush_audit()

    def flush_audit(self):
        AuditEntry.objects.bulk_create(self.audit, batch_size=1000)
        self.audit = []

    def _came_from_file(self, sheet, row, obj):
        """Note that `obj` came from the file under the row's identifier; an entry whose
        record is gone is pointed at the new one."""
        entry = row.extra.get("provenance")
        if entry is not None:
            self.moved_provenance.append(ImportedRecord(pk=entry.pk, object_id=obj.pk))
            return
        key, from_file = row.extra["identifier"]
        self.provenance.append(ImportedRecord(district_id=self.district_id, provider_id=self.provider_id, sheet=sheet,
                                              key=key, from_file=from_file, object_id=obj.pk))
        if len(self.provenance) >= BATCH:
            self.flush_provenance()

    def flush_provenance(self):
        ImportedRecord.objects.bulk_create(self.provenance, batch_size=1000)
        ImportedRecord.objects.bulk_update(self.moved_provenance, ["object_id"], batch_size=1000)
        self.provenance, self.moved_provenance = [], []

    def _apply(self, obj, values: dict, fields: dict) -> dict:
        """Set the mapped columns present in the file onto `obj`; {field: [before, after]} of changes."""
        changes = {}
        for header, field_name in fields.items():
            if header not in values:
                continue
            value = values[header]
            if value is None and field_name in KEPT_WHEN_EMPTY:
                continue
            if value is None:
                value = "" if field_name in TEXT_FIELDS else DEFAULTS.get(field_name)
            before = getattr(obj, field_name)
            if before != value:
                changes[field_name] = [audit.plain(before), audit.plain(value)]
                setattr(obj, field_name, value)
        return changes

    def _records(self, sheet, model, rows, fields, new, label=lambda obj: None, repeated_is_one=False, identified=True):
        """Create or update the records of `rows`, one model with plain fields: a new one is
        `new(row)` with the row's values, and (if `identified`) its identifier from the file is
        kept. Each row's record is left in `extra["written"]`."""
        created, changed, written = [], [], {}
        for row in rows:
            obj = row.existing or (written.get(row.extra["identifier"]) if repeated_is_one else None)
            if obj is None:
                obj = new(row)
                self._apply(obj, row.values, fields)
                created.append((obj, row))
                if repeated_is_one:
                    written[row.extra["identifier"]] = obj
            elif obj.pk:
                changes = self._apply(obj, row.values, fields)
                if changes:
                    changed.append((obj, changes))
                else:
                    self._count(sheet, "unverändert")
            else:  # a goal the file lists twice: the later row wins
                self._apply(obj, row.values, fields)
            row.extra["written"] = obj
        model.objects.bulk_create([obj for obj, _ in created], batch_size=1000)
        for obj, row in created:
            if identified:
                self._came_from_file(sheet, row, obj)
            self._audit(obj, AuditEntry.Action.IMPORT, {f: [None, audit.plain(getattr(obj, f))] for f in fields.values()},
                        label=label(obj))
            self._count(sheet, "neu")
        if changed:
            model.objects.bulk_update([obj for obj, _ in changed], list(fields.values()), batch_size=1000)
        for obj, changes in changed:
            self._audit(obj, AuditEntry.Action.UPDATE, changes, label=label(obj))
            self._count(sheet, "geändert")
        return created

    # participants ----------------------------------------------------------

    def participants(self, rows) -> dict:
        """{Kennung: person} of every person of the file, written."""
        created, updated = [], []
        for row in rows:
            values = row.values
            person = row.existing
            if person is None:
                person = Participant(district_id=self.district_id, provider_id=self.provider_id,
                                     responsible=self.case_manager, external_id=values["Kennung"])
                self._apply(person, values, PARTICIPANT_FIELDS)
                person.save()  # one by one: each needs its generated code
                created.append((row, person))
            else:
                changes = self._apply(person, values, PARTICIPANT_FIELDS)
                if changes:
                    person.save(update_fields=[f.removesuffix("_id") if f.endswith("_id") else f for f in changes])
                    self._audit(person, AuditEntry.Action.UPDATE, changes)
                    self._count("Teilnehmende", "geändert")
                else:
                    self._count("Teilnehmende", "unverändert")
                updated.append((row, person))
            if row.extra.get("household"):
                self._household(person, row)
        for _row, person in created:
            self._audit(person, AuditEntry.Action.IMPORT, {
                field_name: [None, audit.plain(getattr(person, field_name))] for field_name in PARTICIPANT_FIELDS.values()})
            self._count("Teilnehmende", "neu")
        return {row.values["Kennung"]: person for row, person in created + updated}

    def _household(self, person, row):
        key = row.extra["household"]
        household = self.households.get(key)
        if household is None:
            name = row.values.get("Haushalt")
            household = Household.objects.create(district_id=self.district_id, provider_id=self.provider_id, name=name)
            if key[0] == "key":
                row.extra.update(identifier=(key[1], True), provenance=None)
                self._came_from_file("Haushalte", row, household)
            self._audit(household, AuditEntry.Action.IMPORT, {"name": [None, name]})
            self.households[key] = household
        if person.household_id != household.pk:
            self._audit(person, AuditEntry.Action.UPDATE, {"household": [person.household_id, household.pk]})
            person.household = household
            person.save(update_fields=["household"])

    # consents --------------------------------------------------------------

    def consents(self, rows, persons):
        rows = [row for row in rows if row.extra.get("by_hand") is None]  # a file does not change those

        def new(row):
            person = persons.get(row.key) or row.extra["person"]
            return Consent(participant_id=person.pk, note="Import")

        self._records("Einwilligungen", Consent, rows, CONSENT_FIELDS, new)
        through = Consent.released_to.through
        released = [row for row in rows if "Schweigepflichtentbindung für" in row.values]
        before = {}
        for consent_id, target_id in through.objects.filter(
                consent_id__in=[row.extra["written"].pk for row in released]).values_list("consent_id", "referraltarget_id"):
            before.setdefault(consent_id, set()).add(target_id)
        links = []
        for row in released:
            consent, targets = row.extra["written"], set(row.values["Schweigepflichtentbindung für"] or [])
            if before.get(consent.pk, set()) != targets:
                if consent.pk in before:
                    self._audit(consent, AuditEntry.Action.UPDATE,
                                {"released_to": [sorted(before[consent.pk]), sorted(targets)]})
                    through.objects.filter(consent_id=consent.pk).delete()
                links += [through(consent_id=consent.pk, referraltarget_id=target) for target in sorted(targets)]
        through.objects.bulk_create(links, batch_size=1000)
        self._unlink_procedures({row.extra["written"].participant_id for row in rows if "written" in row.extra})

    def _unlink_procedures(self, participant_ids):
        """Module 3's links to people whose releases this file withdrew or narrowed (one query
        where no procedure is linked to any of them, as in nearly every file)."""
        from kim.residence.models import Procedure
        from kim.residence.services import unlink_unreleased  # module 3 builds on case work

        linked = set(Procedure.objects.filter(participant_id__in=participant_ids).values_list("participant_id", flat=True))
        for participant in Participant.objects.filter(pk__in=linked):
            unlink_unreleased(self.actor, participant)

    # cases -----------------------------------------------------------------

    def cases(self, rows, persons) -> dict:
        """{Fall-Kennung: case} of every case of the file, written."""
        new, changed = [], []
        result = {}
        for row in rows:
            values = dict(row.values)
            person = persons.get(values["Teilnehmende-Kennung"]) or (row.key[1] if row.key else None)
            if values.get("Kommune") is None and "Kommune" in values:
                del values["Kommune"]
            if values.get("Ende"):
                values["Phase"] = Phase.CLOSED
            elif values.get("Phase") is None:
                values.pop("Phase", None)
            case = row.existing
            if case is None:
                case = Case(district_id=self.district_id, provider_id=self.provider_id, participant=person,
                            case_manager=self.case_manager, external_id=values["Fall-Kennung"],
                            municipality_id=person.municipality_id, phase=Phase.INTAKE)
                self._apply(case, values, CASE_FIELDS)
                new.append(case)
            else:
                changes = self._apply(case, values, CASE_FIELDS)
                if changes:
                    changed.append((case, changes))
                else:
                    self._count("Fälle", "unverändert")
            result[values["Fall-Kennung"]] = case
        Case.objects.bulk_create(new, batch_size=1000)
        for case in new:
            self._audit(case, AuditEntry.Action.IMPORT, {f: [None, audit.plain(getattr(case, f))] for f in CASE_FIELDS.values()})
            self._count("Fälle", "neu")
        if changed:
            Case.objects.bulk_update([c for c, _ in changed], list(CASE_FIELDS.values()), batch_size=1000)
        for case, changes in changed:
            self._audit(case, AuditEntry.Action.UPDATE, changes)
            self._count("Fälle", "geändert")
        return result

    def _case(self, row, cases):
        return cases.get(row.key) or row.extra["case"]

    # records of a case -----------------------------------------------------

    def assessments(self, rows, cases):
        def new(row):
            case = self._case(row, cases)
            return Assessment(case_id=case.pk, author_id=case.case_manager_id, kind=Assessment.Kind.INITIAL)

        self._records("Assessments", Assessment, rows, ASSESSMENT_FIELDS, new, label=_case_label)
        linked = []
        for row in rows:  # the assessment compared with, now that every one of the file has an id
            previous = row.extra.get("previous_row")
            previous_id = previous.extra["written"].pk if previous else getattr(row.extra.get("previous"), "pk", None)
            assessment = row.extra["written"]
            if previous_id and assessment.previous_id != previous_id:
                assessment.previous_id = previous_id
                linked.append(assessment)
        Assessment.objects.bulk_update(linked, ["previous"], batch_size=1000)

    def items(self, rows):
        """Life domains have no identifier of their own: their assessment's and the domain."""

        def new(row):
            assessment = row.extra["assessment_row"].extra["written"] if row.extra["assessment_row"] else row.extra["assessment"]
            return AssessmentItem(assessment_id=assessment.pk, life_domain_id=row.values["Lebensbereich"])

        self._records("Lebensbereiche", AssessmentItem, rows, ITEM_FIELDS, new, identified=False)

    def goals(self, rows, cases):
        def new(row):
            return Goal(case_id=self._case(row, cases).pk)

        for row in rows:  # an empty "Status seit": since the agreement
            if (row.existing is None or "Status seit" in row.values) and not row.values.get("Status seit"):
                row.values["Status seit"] = row.values["vereinbart am"]
        self._records("Ziele", Goal, rows, GOAL_FIELDS, new, label=_case_label, repeated_is_one=True)

    def actions(self, rows, cases):
        def new(row):
            return PlanAction(case_id=self._case(row, cases).pk)

        for row in rows:
            goal = row.extra["goal_row"].extra["written"] if row.extra.get("goal_row") else row.extra.get("goal")
            row.values["Ziel"] = goal.pk if goal else None
        self._records("Maßnahmen", PlanAction, rows, {**ACTION_FIELDS, "Ziel": "goal_id"}, new, label=_case_label)

    def referrals(self, rows, cases):
        def new(row):
            return Referral(case_id=self._case(row, cases).pk)

        self._records("Verweise", Referral, rows, REFERRAL_FIELDS, new, label=_case_label)

    # appointments ----------------------------------------------------------

    def appointments(self, rows, cases):
        """Written in batches, so that memory holds one batch of new records, not all of them;
        matched ones come from the check as plain values."""
        pending, changed = [], []
        for row in rows:
            values = row.values
            topics, support = sorted(set(values.get("Themen") or [])), sorted(set(values.get("Sprachmittlung") or []))
            if row.existing is not None:
                old = row.existing
                appointment = Appointment(pk=old.pk, kind=old.kind, case_id=old.case_id,
                                          **dict(zip(EXISTING_APPOINTMENT_FIELDS, old.fields, strict=True)))
                changes = self._apply(appointment, values, APPOINTMENT_FIELDS)
                if "Themen" in values and topics != old.topics:
                    changes["topics"] = [old.topics, topics]
                if "Sprachmittlung" in values and support != old.support:
                    changes["language_support"] = [old.support, support]
                if changes:
                    changed.append((appointment, changes, topics, support))
                else:
                    self._count("Termine", "unverändert")
                continue
            case = self._case(row, cases) if row.key else None
            appointment = Appointment(
                district_id=self.district_id, provider_id=self.provider_id,
                case_manager_id=case.case_manager_id if case else self.case_manager.pk,
                case_id=case.pk if case else None, kind=values["Art"],
            )
            self._apply(appointment, values, APPOINTMENT_FIELDS)
            pending.append((appointment, topics, support, row))
            if len(pending) >= BATCH:
                self._create_appointments(pending)
                pending = []
        self._create_appointments(pending)
        if changed:
            Appointment.objects.bulk_update([a for a, *_ in changed], list(APPOINTMENT_FIELDS.values()), batch_size=1000)
            for appointment, changes, topics, support in changed:
                if "topics" in changes:
                    appointment.topics.set(topics)
                if "language_support" in changes:
                    appointment.language_support.set(support)
                self._audit(appointment, AuditEntry.Action.UPDATE, changes, label=f"T-{appointment.pk}")
                self._count("Termine", "geändert")

    def _create_appointments(self, batch):
        if not batch:
            return
        topic_model = Appointment.topics.through
        support_model = Appointment.language_support.through
        Appointment.objects.bulk_create([a for a, *_ in batch])
        topic_model.objects.bulk_create(
            [topic_model(appointment_id=a.pk, topic_id=t) for a, topics, _, _ in batch for t in topics])
        support_model.objects.bulk_create(
            [support_model(appointment_id=a.pk, languagesupportkind_id=s) for a, _, support, _ in batch for s in support])
        for appointment, topics, _support, row in batch:
            self._came_from_file("Termine", row, appointment)
            self._audit(appointment, AuditEntry.Action.IMPORT, {
                "date": [None, appointment.date.isoformat()], "kind": [None, appointment.kind],
                "duration_minutes": [None, appointment.duration_minutes], "topics": [None, topics]},
                label=f"F-{appointment.case_id:05d}" if appointment.case_id else f"T-{appointment.pk}")
            self._count("Termine", "neu")


def _case_label(obj):
    return f"F-{obj.case_id:05d}"
