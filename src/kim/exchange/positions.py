"""The sheet "Stellen": coordination's import of the district's staffing, through the same
steps as case data (read → map → check → write) and written by kim.staffing.services, so that
an imported position keeps the rules of one entered on the page.

One row is one position with its figures on the Stichtag: VZÄ bewilligt (the position's FTE
approved), VZÄ besetzt (one filling, by the person named in "Person" or by no one named) and
VZÄ noch nicht besetzt (one open vacancy). The approval runs from "bewilligt ab" (default: the
1 January of the Stichtag's year) to "bewilligt bis" (default: open); the filling from
"besetzt ab" (default: the approval's start); the vacancy from the approval's start.

A row is the same position as a row of an earlier file by its Stellen-Kennung or, without
one, by function, town, employer and designation (the n-th such row): importing the same file
again changes nothing, a file with other figures changes the positions, fillings and vacancies
it created (in place: the staffing history of a position is kept on its page). A position
entered by hand is never taken for a row of a file."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from kim.core.models import Municipality, Provider, Role
from kim.staffing import services as staffing
from kim.staffing.models import CASELOAD_FUNCTIONS, MODULE_OF, Filling, Function, Module, Position, Vacancy

from .mapping import Table, fold, load_value_lists, map_rows, staff_name
from .models import ImportedRecord
from .plan import Plan, Record
from .workbook import FUNCTIONS, MODULES, NONE

SHEET = "Stellen"
FILLING_SHEET = "Stellen/Besetzung"  # provenance of the filling and the vacancy a row made
VACANCY_SHEET = "Stellen/Ausschreibung"
ZERO = Decimal(0)

# {field of a position, filling or vacancy: column of the sheet}, for the services' messages
COLUMN_OF = {"function": "Funktion", "title": "Bezeichnung", "municipality": "Kommune", "employer": "Träger",
             "fte_approved": "VZÄ bewilligt", "approved_from": "bewilligt ab", "approved_until": "bewilligt bis",
             "passed_on_to": "Weiterleitung an", "note": "Bemerkung", "person": "Person", "holder": "Person",
             "starts_on": "besetzt ab", "fte": "VZÄ besetzt"}


def shown(value) -> str:
    """A number of FTE as the papers write it: 2,88."""
    return f"{value:.2f}".replace(".", ",")


def function_of(values):
    """The row's function, read together with its module: "Koordination" in module 2 is the
    coordination of case management."""
    function, module = values.get("Funktion"), values.get("Modul")
    if function == Function.COORDINATION and module == Module.CASE_MANAGEMENT:
        return Function.CM_COORDINATION
    return function


def position_rules(values):
    """(column, German message) for what a row may not say."""
    function, module = function_of(values), values.get("Modul")
    if function and module and MODULE_OF[function] != module:
        yield "Modul", (f"„{FUNCTIONS[function]}“ gehört zu {MODULES[MODULE_OF[function]]}, nicht zu "
                        f"{MODULES[module]}.")
    approved = values.get("VZÄ bewilligt")
    filled, vacant = values.get("VZÄ besetzt") or ZERO, values.get("VZÄ noch nicht besetzt") or ZERO
    if approved is not None and approved <= 0:
        yield "VZÄ bewilligt", "Eine Stelle braucht mehr als 0 VZÄ bewilligt."
    elif approved is not None and filled + vacant > approved:
        yield "VZÄ besetzt", (f"Besetzt ({shown(filled)}) und noch nicht besetzt ({shown(vacant)}) sind zusammen "
                              f"mehr als bewilligt ({shown(approved)}).")
    day = values.get("Stichtag")
    if day is None:
        return
    start, until, filled_from = values["bewilligt ab"], values.get("bewilligt bis"), values["besetzt ab"]
    if start > day:
        yield "bewilligt ab", "Die Bewilligung beginnt nach dem Stichtag; die Zeile nennt die Zahlen am Stichtag."
    if until and until < start:
        yield "bewilligt bis", "Die Bewilligung endet vor ihrem Beginn."
    elif until and until < day:
        yield "bewilligt bis", "Die Bewilligung endet vor dem Stichtag; die Zeile nennt die Zahlen am Stichtag."
    if filled and filled_from < start:
        yield "besetzt ab", "Die Besetzung beginnt vor der Bewilligung."
    elif filled and filled_from > day:
        yield "besetzt ab", "Die Besetzung beginnt nach dem Stichtag; die Zeile nennt die Zahlen am Stichtag."
    if values.get("Person") and not filled:
        yield "Person", "Eine Person ist genannt, aber „VZÄ besetzt“ ist leer."


def complete(values) -> list:
    """The defaults of the optional columns; returns the columns that took a default."""
    values["Funktion"] = function_of(values)
    day, defaulted = values.get("Stichtag"), []
    if values.get("bewilligt ab") is None and day is not None:
        values["bewilligt ab"] = date(day.year, 1, 1)
        defaulted.append("bewilligt ab")
    if values.get("besetzt ab") is None:
        values["besetzt ab"] = values.get("bewilligt ab")
        defaulted.append("besetzt ab")
    for column in ("Kommune", "Träger", "Weiterleitung an"):
        if values.get(column) == NONE:
            values[column] = None
    return defaulted


# ---------------------------------------------------------------- the check

def check(actor, table: Table | None, *, saved_values=None, missing=None, progress=None) -> Plan:
    """The plan for importing the sheet "Stellen" as `actor` (coordination): problems of cells
    and rows, each row matched with the position it came from earlier, and then a trial of the
    writes in a transaction that is rolled back, so that the services' own checks (the same as
    on the pages) report their refusals as problems of their rows before anything is written."""
    plan = Plan()
    for headers in (missing or {}).values():
        for header in headers:
            plan.add(SHEET, 0, header, "Diese Pflichtspalte ist keiner Spalte der Datei zugeordnet.")
    if not plan.ok or table is None:
        return plan
    plan.sheet_names = {SHEET: table.sheet}
    lists = load_value_lists(actor)
    people = _holders(actor)
    rows, ordinal, seen = [], defaultdict(int), {}
    for number, values in map_rows(table, lists, saved_values or {}, plan):
        defaulted = complete(values)
        problems = list(position_rules(values))
        person = values.get("Person")
        account = people.get(fold(person)) if person else None
        if account is not None:
            problems += list(_holder_rules(values, account))
        for column, message in problems:
            plan.add(table.sheet, number, column, message)
        if values.get("Stellen-Kennung"):
            key, from_file = values["Stellen-Kennung"], True
        else:
            what = (values.get("Funktion"), values.get("Kommune"), values.get("Träger"), fold(values.get("Bezeichnung") or ""))
            ordinal[what] += 1
            key, from_file = "|".join("" if part is None else str(part) for part in (*what, ordinal[what])), False
        if key in seen:
            plan.add(table.sheet, number, "Stellen-Kennung" if from_file else "",
                     f"Die Kennung „{key}“ steht schon in Zeile {seen[key]}." if from_file
                     else f"Die Zeile wiederholt Zeile {seen[key]}.")
        seen.setdefault(key, number)
        rows.append(Record(number, values, key=key, extra={"identifier": (key, from_file), "person": account,
                                                           "sheet": table.sheet, "defaulted": defaulted}))
        if progress is not None and len(rows) % 200 == 0:
            progress(len(rows), len(table.rows))
    _match(rows, actor.district_id)
    plan.records[SHEET] = rows
    matched = sum(1 for row in rows if row.existing is not None)
    plan.summary = {SHEET: {"Zeilen": len(rows), "schon vorhanden": matched, "neu": len(rows) - matched}}
    if plan.ok:
        _trial(plan, actor)
    return plan


def _holders(actor) -> dict:
    """{folded name or user name: account} of who may hold a post (a name two share: by user name)."""
    users = list(staffing.holder_candidates(actor.district_id))
    names = defaultdict(list)
    for user in users:
        names[fold(staff_name(user))].append(user)
    found = {fold(user.username): user for user in users}
    found.update({name: same[0] for name, same in names.items() if len(same) == 1})
    return found


def _holder_rules(values, account):
    """The services' rules of a holder with an account, row by row (kim.staffing.services)."""
    if values.get("Funktion") in CASELOAD_FUNCTIONS and account.role != Role.CASE_MANAGER:
        yield "Person", f"{staff_name(account)} ist keine Case Manager*in; eine Stelle im Case Management " \
                        "besetzt eine Case Manager*in."
    employer = values.get("Träger")
    if employer and account.provider_id and account.provider_id != employer:
        yield "Person", f"{staff_name(account)} arbeitet bei einem anderen Träger als dem der Stelle."


def _provenance(district_id, sheet, keys) -> dict:
    return {key: (pk, object_id) for pk, key, object_id in ImportedRecord.objects.filter(
        district_id=district_id, provider__isnull=True, sheet=sheet, key__in=list(keys)).values_list("pk", "key", "object_id")}


def _match(rows, district_id):
    """Each row's position of an earlier file (and the filling and vacancy that file made)."""
    keys = {row.key for row in rows}
    found = {sheet: _provenance(district_id, sheet, keys) for sheet in (SHEET, FILLING_SHEET, VACANCY_SHEET)}
    positions = Position.objects.in_bulk([object_id for _, object_id in found[SHEET].values()])
    fillings = Filling.objects.in_bulk([object_id for _, object_id in found[FILLING_SHEET].values()])
    vacancies = Vacancy.objects.in_bulk([object_id for _, object_id in found[VACANCY_SHEET].values()])
    for row in rows:
        row.extra["provenance"] = {sheet: found[sheet].get(row.key) for sheet in found}
        entry = found[SHEET].get(row.key)
        row.existing = positions.get(entry[1]) if entry else None
        if row.existing is not None:
            part = found[FILLING_SHEET].get(row.key)
            row.extra["filling"] = fillings.get(part[1]) if part else None
            part = found[VACANCY_SHEET].get(row.key)
            row.extra["vacancy"] = vacancies.get(part[1]) if part else None
            if row.extra["filling"] is not None and row.extra["filling"].position_id != row.existing.pk:
                row.extra["filling"] = None
            if row.extra["vacancy"] is not None and row.extra["vacancy"].position_id != row.existing.pk:
                row.extra["vacancy"] = None


class RowRefused(Exception):
    def __init__(self, row, error: ValidationError):
        super().__init__(str(error))
        self.row, self.error = row, error


def _trial(plan, actor):
    """Write the plan and roll it back: a refusal of the services becomes a problem of its row."""
    try:
        with transaction.atomic():
            write(plan, actor)
            transaction.set_rollback(True)
    except RowRefused as refused:
        error = refused.error
        items = error.message_dict.items() if hasattr(error, "error_dict") else [("", error.messages)]
        for field, messages in items:
            for message in messages:
                plan.add(refused.row.extra["sheet"], refused.row.number, COLUMN_OF.get(field, ""), message)


# ---------------------------------------------------------------- the writer

def write(plan: Plan, actor) -> dict:
    """Write the checked rows through kim.staffing.services (each change audited there), in the
    caller's transaction; {sheet: {outcome: count}}."""
    assert plan.ok, "only a plan without problems is written"
    rows = plan.records.get(SHEET, [])
    towns = Municipality.objects.in_bulk([row.values["Kommune"] for row in rows if row.values.get("Kommune")])
    providers = Provider.objects.in_bulk([pk for row in rows for pk in (row.values.get("Träger"),
                                                                          row.values.get("Weiterleitung an")) if pk])
    counts = defaultdict(int)
    provenance = []
    with transaction.atomic():
        for row in rows:
            try:
                outcome = _write_row(actor, row, towns, providers, provenance)
            except ValidationError as error:
                raise RowRefused(row, error) from error
            counts[outcome] += 1
        ImportedRecord.objects.bulk_create(provenance)
    return {SHEET: dict(counts)}


def _position_values(values, towns, providers) -> dict:
    return {
        "function": values["Funktion"], "title": values.get("Bezeichnung") or "",
        "municipality": towns.get(values.get("Kommune")), "employer": providers.get(values.get("Träger")),
        "fte_approved": values["VZÄ bewilligt"], "approved_from": values["bewilligt ab"],
        "approved_until": values.get("bewilligt bis"), "passed_on_to": providers.get(values.get("Weiterleitung an")),
        "note": values.get("Bemerkung") or "",
    }


def _changed(obj, values) -> dict:
    """The values that differ from `obj`'s (foreign keys compared by id)."""
    changed = {}
    for name, value in values.items():
        field = obj._meta.get_field(name)
        before = getattr(obj, field.attname)
        after = value.pk if hasattr(value, "pk") and field.is_relation else value
        if before != after:
            changed[name] = value
    return changed


def _write_row(actor, row, towns, providers, provenance) -> str:
    values = row.values
    wanted = _position_values(values, towns, providers)
    filled, vacant = values.get("VZÄ besetzt") or ZERO, values.get("VZÄ noch nicht besetzt") or ZERO
    person = row.extra.get("person")
    filling_values = {"person": person, "holder": "" if person else (values.get("Person") or ""), "fte": filled,
                      "starts_on": values["besetzt ab"], "ends_on": None}
    vacancy_values = {"fte": vacant, "starts_on": values["bewilligt ab"], "ends_on": None}
    position = row.existing
    if position is not None:
        _keep_stored_starts(row, position, wanted, filling_values, vacancy_values)
    if position is None:
        position = staffing.save_position(actor, wanted)
        _provide(row, SHEET, position, provenance)
        if filled:
            _provide(row, FILLING_SHEET, staffing.save_filling(actor, position, filling_values), provenance)
        if vacant:
            _provide(row, VACANCY_SHEET, staffing.save_vacancy(actor, position, vacancy_values), provenance)
        return "neu"
    changes = _changed(position, wanted)
    filling, vacancy = row.extra.get("filling"), row.extra.get("vacancy")
    filling_changes = _changed(filling, filling_values) if filling else ({"fte": filled} if filled else {})
    vacancy_changes = _changed(vacancy, vacancy_values) if vacancy else ({"fte": vacant} if vacant else {})
    if not (changes or filling_changes or vacancy_changes):
        return "unverändert"
    grows = "fte_approved" not in changes or changes["fte_approved"] >= position.fte_approved
    if changes and grows:  # more room first, less room last: the parts always fit the approval
        position = staffing.save_position(actor, changes, position)
    parts = [(vacancy, vacancy_values, vacancy_changes, VACANCY_SHEET, staffing.save_vacancy),
             (filling, filling_values, filling_changes, FILLING_SHEET, staffing.save_filling)]
    parts.sort(key=lambda part: part[1]["fte"] - (part[0].fte if part[0] is not None else ZERO))  # shrinking first
    for part, part_values, part_changes, sheet, save in parts:
        if not part_changes:
            continue
        if part is not None and not part_values["fte"]:
            staffing.delete_part(actor, part)
            ImportedRecord.objects.filter(pk=row.extra["provenance"][sheet][0]).delete()
        elif part is not None:
            save(actor, position, dict(part_values), part)
        elif part_values["fte"]:
            _provide(row, sheet, save(actor, position, part_values), provenance)
    if changes and not grows:
        staffing.save_position(actor, changes, position)
    return "geändert"


def _keep_stored_starts(row, position, wanted, filling_values, vacancy_values):
    """A later table (next year's Stichtag) without "bewilligt ab" or "besetzt ab" keeps the
    starts already recorded: the default (1 January of the Stichtag's year) is for new posts.
    Moving a stored start would drop the earlier year from the grant (R9) and its proof of use."""
    defaulted = row.extra.get("defaulted", ())
    if "bewilligt ab" in defaulted:
        wanted["approved_from"] = position.approved_from
        vacancy = row.extra.get("vacancy")
        vacancy_values["starts_on"] = vacancy.starts_on if vacancy is not None else vacancy_values["starts_on"]
    if "besetzt ab" in defaulted:
        filling = row.extra.get("filling")
        filling_values["starts_on"] = filling.starts_on if filling is not None else wanted["approved_from"]


def _provide(row, sheet, obj, provenance):
    """Note that `obj` came from the row (an entry whose record was removed by hand points to the new one)."""
    key, from_file = row.extra["identifier"]
    entry = row.extra.get("provenance", {}).get(sheet)
    if entry is not None:
        ImportedRecord.objects.filter(pk=entry[0]).update(object_id=obj.pk)
        return
    provenance.append(ImportedRecord(district_id=obj.district_id, provider=None, sheet=sheet, key=key,
                                     from_file=from_file, object_id=obj.pk))
