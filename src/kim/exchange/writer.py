"""Writing a checked plan, the last step of the import (read → map → check → write).

Everything in one transaction (the caller's): new records are created, records the check
matched are updated where the file differs, unchanged records stay untouched, so that the
same file twice changes nothing. Every created or changed record gets its audit entry, as an
import. Nothing is looked up here: what a row updates, the check has decided."""

from collections import Counter

from django.db import transaction

from kim.casework.models import Appointment, Case, Consent, Goal, GoalStatus, Household, Participant, Phase
from kim.core import audit
from kim.core.models import AuditEntry

from .models import ImportedRecord
from .plan import Plan

PARTICIPANT_FIELDS = {
    "Vorname": "first_name", "Nachname": "last_name", "Geburtsdatum": "birth_date", "Geschlecht": "gender",
    "Staatsangehörigkeit": "nationalities", "Sprachen": "languages", "Kommune": "municipality_id",
    "Einreisedatum": "entry_date", "Aufenthaltsstatus": "residence_status",
}
CASE_FIELDS = {
    "Art": "kind", "Zielgruppe": "target_group_id", "Zugangsweg": "referral_source_id", "Kommune": "municipality_id",
    "Beginn": "opened_on", "Phase": "phase", "Ende": "closed_on", "Abschlussgrund": "closure_reason_id",
    "Verwiesen an": "screening_outcome_id",
}
GOAL_FIELDS = {"Zielkategorie": "category_id", "Beschreibung": "text", "vereinbart am": "agreed_on", "Status": "status",
               "Status seit": "status_changed_on"}
APPOINTMENT_FIELDS = {"Datum": "date", "komplex": "complexity", "Dauer (Minuten)": "duration_minutes"}
TEXT_FIELDS = {"nationalities", "languages", "residence_status", "complexity"}
BATCH = 2000


def write(plan: Plan, actor, case_manager, label: str) -> dict:
    """Write `plan` (which must have no problem) as `actor`; {sheet: {outcome: count}}."""
    assert plan.ok, "only a plan without problems is written"
    with transaction.atomic():
        writer = _Writer(actor, case_manager, label, plan)
        persons = writer.participants(plan.records.get("Teilnehmende", []))
        cases = writer.cases(plan.records.get("Fälle", []), persons)
        writer.goals(plan.records.get("Ziele", []), cases)
        writer.appointments(plan.records.get("Termine", []), cases)
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
        # Collected and written in bulk; district and provider given, as reading them from
        # consents and goals would cost a query each.
        self.audit.append(audit.entry(self.actor, action, obj, changes={"import": self.label, **changes},
                                      district_id=self.district_id, provider_id=self.provider_id, label=label))
        if len(self.audit) >= BATCH:
            self.flush_audit()

    def flush_audit(self):
        AuditEntry.objects.bulk_create(self.audit, batch_size=1000)
        self.audit = []

    def _came_from_file(self, sheet, identifier, entry, obj):
        """Note that `obj` came from the file under `identifier` (key, from the file?); an entry
        whose record is gone is pointed at the new one."""
        if entry is not None:
            entry.object_id = obj.pk
            self.moved_provenance.append(entry)
            return
        key, from_file = identifier
        self.provenance.append(ImportedRecord(district_id=self.district_id, provider_id=self.provider_id, sheet=sheet,
                                              key=key, from_file=from_file, object_id=obj.pk))
        if len(self.provenance) >= BATCH:
            self.flush_provenance()

    def flush_provenance(self):
        ImportedRecord.objects.bulk_create(self.provenance, batch_size=1000)
        ImportedRecord.objects.bulk_update(self.moved_provenance, ["object_id"], batch_size=1000)
        self.provenance, self.moved_provenance = [], []

    def _apply(self, obj, values: dict, mapping: dict) -> dict:
        """Set the mapped columns present in the file onto `obj`; {field: [before, after]} of changes."""
        changes = {}
        for header, field_name in mapping.items():
            if header not in values:
                continue
            value = values[header]
            if value is None and field_name in TEXT_FIELDS:
                value = ""
            before = getattr(obj, field_name)
            if before != value:
                changes[field_name] = [audit.plain(before), audit.plain(value)]
                setattr(obj, field_name, value)
        return changes

    # participants ----------------------------------------------------------

    def participants(self, rows) -> dict:
        created, updated = [], []
        for row in rows:
            values = row.values
            if "Geschlecht" in values and values["Geschlecht"] is None:
                values["Geschlecht"] = Participant.Gender.UNSTATED
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
            if values.get("Haushalt"):
                self._household(person, values["Haushalt"])
        for _row, person in created:
            self._audit(person, AuditEntry.Action.IMPORT, {
                field_name: [None, audit.plain(getattr(person, field_name))] for field_name in PARTICIPANT_FIELDS.values()})
            self._count("Teilnehmende", "neu")
        for row, person in created + updated:
            self._consent(person, row)
        return {row.values["Kennung"]: person for row, person in created + updated}

    def _household(self, person, name):
        household = self.households.get(name)
        if household is None:
            household = Household.objects.create(district_id=self.district_id, provider_id=self.provider_id, name=name)
            self._audit(household, AuditEntry.Action.IMPORT, {"name": [None, name]})
            self.households[name] = household
        if person.household_id != household.pk:
            self._audit(person, AuditEntry.Action.UPDATE, {"household": [person.household_id, household.pk]})
            person.household = household
            person.save(update_fields=["household"])

    def _consent(self, person, row):
        values = row.values
        given, withdrawn = values.get("Einwilligung am"), values.get("Einwilligung widerrufen am")
        if not given or row.extra.get("consent_by_hand") is not None:
            return  # none given, or one entered by hand that a file does not change
        consent = row.extra.get("consent")
        if consent is None:
            consent = Consent.objects.create(participant=person, given_on=given, withdrawn_on=withdrawn, note="Import")
            self._came_from_file("Einwilligungen", (row.extra["consent_key"], False), row.extra.get("consent_provenance"),
                                 consent)
            self._audit(consent, AuditEntry.Action.IMPORT, {"given_on": [None, given.isoformat()],
                                                           "withdrawn_on": [None, audit.plain(withdrawn)]})
            self._count("Einwilligungen", "neu")
        elif "Einwilligung widerrufen am" in values and consent.withdrawn_on != withdrawn:
            self._audit(consent, AuditEntry.Action.UPDATE, {"withdrawn_on": [audit.plain(consent.withdrawn_on),
                                                                             audit.plain(withdrawn)]})
            consent.withdrawn_on = withdrawn
            consent.save(update_fields=["withdrawn_on"])
            self._count("Einwilligungen", "geändert")

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

    # goals -----------------------------------------------------------------

    def goals(self, rows, cases):
        new, changed = [], []
        written = {}  # the same goal twice in a file (same key) is one goal
        for row in rows:
            values = row.values
            case = cases.get(row.key) or row.extra["case"]
            identifier = row.extra["identifier"]
            goal = row.existing or written.get(identifier)
            if "Status" in values and values["Status"] is None:
                values["Status"] = GoalStatus.OPEN
            if goal is None or "Status seit" in values:
                values["Status seit"] = values.get("Status seit") or values["vereinbart am"]
            if goal is None:
                goal = Goal(case_id=case.pk)
                self._apply(goal, values, GOAL_FIELDS)
                new.append((goal, row))
                written[identifier] = goal
            else:
                changes = self._apply(goal, values, GOAL_FIELDS)
                if changes and goal.pk:
                    changed.append((goal, changes))
                elif goal.pk:
                    self._count("Ziele", "unverändert")
        Goal.objects.bulk_create([goal for goal, _ in new], batch_size=1000)
        for goal, row in new:
            self._came_from_file("Ziele", row.extra["identifier"], row.extra["provenance"], goal)
            self._audit(goal, AuditEntry.Action.IMPORT, {"category": [None, goal.category_id], "text": [None, goal.text],
                                                         "agreed_on": [None, goal.agreed_on.isoformat()],
                                                         "status": [None, goal.status]})
            self._count("Ziele", "neu")
        if changed:
            Goal.objects.bulk_update([g for g, _ in changed], list(GOAL_FIELDS.values()), batch_size=1000)
        for goal, changes in changed:
            self._audit(goal, AuditEntry.Action.UPDATE, changes)
            self._count("Ziele", "geändert")

    # appointments ----------------------------------------------------------

    def appointments(self, rows, cases):
        """Written in batches, so that memory holds one batch of new records, not all of them;
        matched ones come from the check as plain values."""
        pending, changed = [], []
        for row in rows:
            values = row.values
            case = (cases.get(row.key) or row.extra["case"]) if row.key else None
            topics, support = sorted(set(values.get("Themen") or [])), sorted(set(values.get("Sprachmittlung") or []))
            if row.existing is not None:
                old = row.existing
                appointment = Appointment(pk=old.pk, date=old.date, complexity=old.complexity,
                                          duration_minutes=old.duration_minutes)
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
            counselling = values["Art"] == Appointment.Kind.COUNSELLING
            appointment = Appointment(
                district_id=self.district_id, provider_id=self.provider_id,
                case_manager_id=case.case_manager_id if case else self.case_manager.pk,
                case_id=case.pk if case else None, kind=values["Art"], date=values["Datum"],
                duration_minutes=values["Dauer (Minuten)"],
                complexity=(values.get("komplex") or "") if counselling else "",
                other_kind="" if counselling else Appointment.OtherKind.OTHER,
            )
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
            self._came_from_file("Termine", row.extra["identifier"], row.extra["provenance"], appointment)
            self._audit(appointment, AuditEntry.Action.IMPORT, {
                "date": [None, appointment.date.isoformat()], "kind": [None, appointment.kind],
                "duration_minutes": [None, appointment.duration_minutes], "topics": [None, topics]},
                label=f"F-{appointment.case_id:05d}" if appointment.case_id else f"T-{appointment.pk}")
            self._count("Termine", "neu")
