"""The sheet "Stellen" of the standard workbook, imported by coordination through the same steps
as case data (start → sheets → columns → values → check → commit): Warendorf 2022 from the
example file under docs/ gives exactly the seed's funding and staffing; bad rows give German
problems and write nothing; who may import what; importing again does not duplicate."""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook, load_workbook

from kim.core.models import AuditEntry, District, Municipality
from kim.exchange import services
from kim.exchange.models import ImportedRecord, ImportRun
from kim.reports.framework import ReportParams, build_table
from kim.reports.periods import Period
from kim.staffing.models import Filling, Function, Position, Vacancy

from .factories import ProviderFactory, UserFactory
from .staffing_data import WARENDORF_2022

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "beispiele" / "warendorf-2022-stellen.xlsx"
HEADERS = ["Modul", "Funktion", "Kommune", "Träger", "VZÄ bewilligt", "VZÄ besetzt", "VZÄ noch nicht besetzt",
           "Stichtag"]
DAY = date(2022, 12, 31)


@pytest.fixture
def warendorf(world):
    """The personas' district, named Kreis Warendorf (the example file names it as employer), with a town."""
    with scopes_disabled():
        District.objects.filter(pk=world.district.pk).update(name="Kreis Warendorf")
        Municipality.objects.create(district=world.district, name="Ahlen")
        for user in world.personas().values():
            user.refresh_from_db()
    return world


def stellen(rows, headers=HEADERS, sheet="Stellen", extra=None) -> bytes:
    book = Workbook()
    book.active.title = sheet
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    for name, content in (extra or {}).items():
        other = book.create_sheet(name)
        for row in content:
            other.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def through_the_import(actor, data, *, commit=True, filename="warendorf-2022-stellen.xlsx", values=None):
    """The service path of the pages: upload, the sheet and its columns as suggested, (value
    mapping,) the dry run, and the import, each step run as the worker runs it."""
    with scope(district=actor.district_id):
        run = services.start_import(actor, filename=filename, data=data)
        assert list(run.assignments) == ["Stellen"], run.assignments
        run = services.assign_sheets(actor, run, {"Stellen": run.assignments["Stellen"]["sheet"]})
        run = services.map_columns(actor, run, "Stellen", run.assignments["Stellen"]["columns"])
        if values:
            services.map_values(actor, run, values)
        run = services.run_in_this_process(actor, run, commit=False)
        if commit and run.can_commit:
            run = services.run_in_this_process(actor, run, commit=True)
        return run


def problems(run):
    return [f"{p['row']}:{p['column']}: {p['message']}" for p in run.problems]


def cells(table, measure):
    return {row.key: row.values.get(f"{measure}@0") for row in table.rows}


def staffing_records(district):
    with scopes_disabled():
        return (Position.objects.filter(district=district).count(), Filling.objects.filter(district=district).count(),
                Vacancy.objects.filter(district=district).count())


# ---------------------------------------------------------------- Warendorf, exactly

def test_the_example_file_gives_warendorfs_funding_and_staffing_exactly(warendorf):
    run = through_the_import(warendorf.coordination, EXAMPLE.read_bytes())
    assert run.status == ImportRun.Status.DONE, problems(run) or run.message
    assert run.summary == {"Stellen": {"neu": 5}}
    with scope(district=warendorf.district.pk):
        funding = build_table(warendorf.coordination, "R9", ReportParams(Period.of("year", 2022), DAY))
        staffing = build_table(warendorf.steering, "R8", ReportParams(Period.of("year", 2022), DAY))
    granted = cells(funding, "granted")
    assert granted["total"] == Decimal("1222800.00")
    assert (granted["m:1"], granted["m:2"], granted["m:3"], granted["lump"]) == (
        Decimal("253800.00"), Decimal("770000.00"), Decimal("150000.00"), Decimal("49000.00"))
    approved, filled, vacant = cells(staffing, "approved"), cells(staffing, "filled"), cells(staffing, "vacant")
    assert (approved["total"], filled["total"], vacant["total"]) == (Decimal("21.00"), Decimal("13.87"), Decimal("2.88"))
    for function, a, f, v in WARENDORF_2022:
        key = f"f:{function.value}"
        assert (approved[key], filled[key], vacant[key]) == (Decimal(a), Decimal(f), Decimal(v)), function
    with scopes_disabled():
        # "kommunenübergreifend" and the district's name: across towns, at the district administration.
        assert not Position.objects.filter(district=warendorf.district).exclude(
            municipality=None, employer=None).exists()
        assert set(Position.objects.values_list("approved_from", flat=True)) == {date(2022, 1, 1)}
        # Audited: each position, filling and vacancy by the staffing services, the import as a whole.
        assert AuditEntry.objects.filter(object_type="staffing.position", action=AuditEntry.Action.CREATE).count() == 5
        assert AuditEntry.objects.filter(object_type="exchange.importrun", action=AuditEntry.Action.IMPORT).count() == 1


def test_the_dry_run_writes_nothing(warendorf):
    run = through_the_import(warendorf.coordination, EXAMPLE.read_bytes(), commit=False)
    assert run.status == ImportRun.Status.CHECKED and run.can_commit, problems(run)
    assert run.summary == {"Stellen": {"Zeilen": 5, "schon vorhanden": 0, "neu": 5}}
    assert staffing_records(warendorf.district) == (0, 0, 0)
    with scopes_disabled():
        assert not ImportedRecord.objects.exists()
        assert not AuditEntry.objects.filter(object_type__startswith="staffing.").exists()


def test_importing_the_same_file_again_changes_nothing_and_a_changed_file_updates_in_place(warendorf):
    first = through_the_import(warendorf.coordination, EXAMPLE.read_bytes())
    assert first.status == ImportRun.Status.DONE
    before = staffing_records(warendorf.district)
    again = through_the_import(warendorf.coordination, EXAMPLE.read_bytes())
    assert again.status == ImportRun.Status.DONE, problems(again)
    assert again.summary == {"Stellen": {"unverändert": 5}}
    assert staffing_records(warendorf.district) == before == (5, 5, 1)
    # A later table: case management filled further, the vacancy closed.
    book = load_workbook(EXAMPLE)
    sheet = book["Stellen"]
    sheet["F5"], sheet["G5"] = "10,50", None
    out = io.BytesIO()
    book.save(out)
    changed = through_the_import(warendorf.coordination, out.getvalue())
    assert changed.status == ImportRun.Status.DONE, problems(changed)
    assert changed.summary == {"Stellen": {"unverändert": 4, "geändert": 1}}
    assert staffing_records(warendorf.district) == (5, 5, 0)
    with scope(district=warendorf.district.pk):
        staffing = build_table(warendorf.steering, "R8", ReportParams(Period.of("year", 2022), DAY))
    assert cells(staffing, "filled")["f:case_management"] == Decimal("10.50")
    assert cells(staffing, "vacant")["total"] == 0


def test_next_years_table_keeps_the_recorded_starts_and_last_years_grant(warendorf):
    """The same table a year later (only the Stichtag changed): approvals and fillings keep
    their starts, so the 2022 grant stays 1.222.800 EUR and the file imports."""
    assert through_the_import(warendorf.coordination, EXAMPLE.read_bytes()).status == ImportRun.Status.DONE
    book = load_workbook(EXAMPLE)
    sheet = book["Stellen"]
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, (date,)) or (isinstance(cell.value, str) and cell.value.strip() == "31.12.2022"):
                cell.value = date(2023, 12, 31)
    out = io.BytesIO()
    book.save(out)
    later = through_the_import(warendorf.coordination, out.getvalue())
    assert later.status == ImportRun.Status.DONE, problems(later)
    with scope(district=warendorf.district.pk):
        funding = build_table(warendorf.steering, "R9", ReportParams(Period.of("year", 2022), DAY))
        with_2023 = build_table(warendorf.steering, "R9", ReportParams(Period.of("year", 2023), date(2023, 12, 31)))
    assert cells(funding, "granted")["total"] == Decimal("1222800.00")
    assert cells(with_2023, "granted")["total"] == Decimal("1222800.00")  # the same posts, the same rates


def test_a_huge_number_of_fte_is_a_problem_of_its_cell(warendorf):
    run = through_the_import(warendorf.coordination, stellen([["2", "Case Management", None, None, 1e308, 0, 0, DAY],
                                                              ["2", "Case Management", None, None, 1, 1e30, 0, DAY]]))
    found = problems(run)
    assert any(p.startswith("2:VZÄ bewilligt:") and "mehr als" in p for p in found), found
    assert any(p.startswith("3:VZÄ besetzt:") and "mehr als" in p for p in found), found
    assert staffing_records(warendorf.district) == (0, 0, 0)


def test_a_position_entered_by_hand_is_not_taken_for_a_row(warendorf):
    with scopes_disabled():
        Position.objects.create(district=warendorf.district, function=Function.COORDINATION,
                                fte_approved=Decimal("1.00"), approved_from=date(2022, 1, 1))
    run = through_the_import(warendorf.coordination, EXAMPLE.read_bytes())
    assert run.summary == {"Stellen": {"neu": 5}}
    assert staffing_records(warendorf.district)[0] == 6


# ---------------------------------------------------------------- bad rows

def test_bad_rows_give_german_problems_with_row_and_column_and_nothing_is_written(warendorf):
    data = stellen([
        ["Modul 1", "Case Management", None, None, 1, 1, 0, DAY],  # row 2: module and function disagree
        ["2", "Case Management", None, None, "1,00", "0,75", "0,50", DAY],  # row 3: besetzt + offen > bewilligt
        ["3", "ABH", "Atlantis", None, 1, None, None, DAY],  # row 4: unknown town
        ["1", "Verwaltung", None, None, "0,5", None, None, "31.13.2022"],  # row 5: no date
        ["1", "Koordination", None, None, "zwei", None, None, DAY],  # row 6: text in VZÄ
        ["1", "Koordination", None, None, 1, None, None, DAY],  # row 7: fine
    ])
    run = through_the_import(warendorf.coordination, data)
    assert run.status == ImportRun.Status.CHECKED and not run.can_commit
    found = problems(run)
    assert "2:Modul: „Case Management“ gehört zu Modul 2, nicht zu Modul 1." in found
    assert "3:VZÄ besetzt: Besetzt (0,75) und noch nicht besetzt (0,50) sind zusammen mehr als bewilligt (1,00)." in found
    assert any(p.startswith("4:Kommune: Unbekannter Wert „Atlantis“") for p in found), found
    assert any(p.startswith("5:Stichtag: „31.13.2022“ ist kein Datum") for p in found), found
    assert "6:VZÄ bewilligt: „zwei“ ist keine Zahl." in found
    assert not any(p.startswith("7:") for p in found)
    assert staffing_records(warendorf.district) == (0, 0, 0)


def test_an_unknown_town_can_be_mapped_like_any_value(warendorf):
    data = stellen([["2", "Case Management-KIM", "Ahlen (Westf.)", "Kreisverwaltung", 2, 1, 1, DAY]])
    run = through_the_import(warendorf.coordination, data)
    assert run.unknown_values[0]["list"] == "position_municipality"
    run = through_the_import(warendorf.coordination, data, values={("position_municipality", "Ahlen (Westf.)"): "Ahlen"})
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scopes_disabled():
        assert Position.objects.get().municipality.name == "Ahlen"


def test_a_required_column_missing_is_a_problem_not_an_error(warendorf):
    run = through_the_import(warendorf.coordination, stellen([["1", "Koordination", 1]],
                                                             headers=["Modul", "Funktion", "VZÄ bewilligt"]))
    assert "0:Stichtag: Diese Pflichtspalte ist keiner Spalte der Datei zugeordnet." in problems(run)
    assert staffing_records(warendorf.district) == (0, 0, 0)


def test_koordination_in_module_2_is_the_coordination_of_case_management(warendorf):
    run = through_the_import(warendorf.coordination, stellen([["Modul 2", "Koordination", None, None, 1, 1, 0, DAY]]))
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scopes_disabled():
        assert Position.objects.get().function == Function.CM_COORDINATION


def test_the_person_column_names_who_fills_a_post(warendorf):
    headers = [*HEADERS, "Person", "besetzt ab"]
    holder = warendorf.insider
    data = stellen([
        ["2", "Case Management", None, "Caritas Aue", 1, 1, None, DAY, holder.username, "01.03.2022"],
        ["1", "Koordination", None, None, "1,5", "1,5", None, DAY, "Erika Muster", None],
        ["2", "Case Management", None, None, 1, 1, None, DAY, warendorf.coordination.username, None],
    ], headers=headers)
    run = through_the_import(warendorf.coordination, data)
    assert problems(run) == [f"4:Person: {warendorf.coordination.get_full_name()} ist keine Case Manager*in; eine "
                             "Stelle im Case Management besetzt eine Case Manager*in."]
    data = stellen([row for row in load_workbook(io.BytesIO(data))["Stellen"].iter_rows(min_row=2, max_row=3,
                                                                                          values_only=True)],
                   headers=headers)
    run = through_the_import(warendorf.coordination, data)
    assert run.status == ImportRun.Status.DONE, problems(run)
    with scopes_disabled():
        by_person = {f.person_id or f.holder: f for f in Filling.objects.all()}
        assert by_person[holder.pk].starts_on == date(2022, 3, 1)
        assert by_person[holder.pk].position.employer == warendorf.provider
        assert by_person["Erika Muster"].fte == Decimal("1.50")


# ---------------------------------------------------------------- who may import what

def test_leads_and_case_managers_cannot_import_stellen(warendorf):
    data = stellen([["1", "Koordination", None, None, 1, 1, 0, DAY]])
    for persona in (warendorf.lead, warendorf.insider):
        with scope(district=warendorf.district.pk):
            run = services.start_import(persona, filename="stellen.xlsx", data=data)
            assert "Stellen" not in run.assignments  # not offered
            assert any("„Stellen“ importiert nur die Koordination" in warning for warning in run.warnings)
            with pytest.raises(ValidationError) as refused:
                services.assign_sheets(persona, run, {"Stellen": "Stellen"})
            assert "Das Blatt „Stellen“ importiert nur die Koordination" in str(refused.value)
    assert staffing_records(warendorf.district) == (0, 0, 0)


def test_coordination_cannot_import_case_data(warendorf):
    people = [["Kennung", "Vorname", "Nachname", "Geburtsdatum", "Kommune"], ["P1", "Amina", "Rahimi", "03.04.1990", "Ahlen"]]
    data = stellen([["1", "Koordination", None, None, 1, 1, 0, DAY]], extra={"Teilnehmende": people})
    with scope(district=warendorf.district.pk):
        run = services.start_import(warendorf.coordination, filename="mappe.xlsx", data=data)
        assert list(run.assignments) == ["Stellen"]
        assert any("„Teilnehmende“ sieht nach Falldaten aus und wird nicht gelesen" in w for w in run.warnings)
        with pytest.raises(ValidationError) as refused:
            services.assign_sheets(warendorf.coordination, run, {"Stellen": "Stellen", "Teilnehmende": "Teilnehmende"})
        assert "Die Koordination importiert nur das Blatt „Stellen“" in str(refused.value)
        # A run whose assignment was changed behind the service's back is refused when it runs.
        ImportRun.objects.filter(pk=run.pk).update(assignments={**run.assignments, "Teilnehmende": {
            "sheet": "Teilnehmende", "header_row": 0, "columns": {"Kennung": "Kennung"}}})
        run.refresh_from_db()
        run = services.run_in_this_process(warendorf.coordination, run, commit=True)
    assert run.status == ImportRun.Status.FAILED and "Die Koordination importiert nur" in run.message
    with scopes_disabled():
        from kim.casework.models import Participant

        assert not Participant.objects.filter(first_name="Amina").exists()
    assert staffing_records(warendorf.district) == (0, 0, 0)


def test_roles_without_either_cannot_import_at_all(warendorf):
    for persona in (warendorf.steering, warendorf.district_admin):
        with scope(district=warendorf.district.pk), pytest.raises(PermissionDenied):
            services.start_import(persona, filename="w.xlsx", data=EXAMPLE.read_bytes())


def test_the_pages_by_role(client, warendorf):
    """Coordination gets the import pages and the template with the sheet "Stellen" only;
    case managers keep theirs without it; others get nothing; runs are seen across the line by nobody."""
    client.force_login(warendorf.coordination)
    page = client.get(reverse("exchange:imports"))
    assert page.status_code == 200 and "Blatt „Stellen“" in page.content.decode()
    assert 'name="case_manager"' not in page.content.decode()
    assert f'href="{reverse("staffing:index")}"' in page.content.decode()  # back to the staffing, not to /daten/
    template = load_workbook(io.BytesIO(client.get(reverse("exchange:template")).content))
    assert "Stellen" in template.sheetnames and "Teilnehmende" not in template.sheetnames
    assert [cell.value for cell in template["Stellen"][1]][:4] == ["Stellen-Kennung", "Modul", "Funktion", "Bezeichnung"]
    lists = {column[0].value: [cell.value for cell in column[1:] if cell.value] for column in template["Wertelisten"].columns}
    assert "kommunenübergreifend" in lists["Stellen: Kommune"] and "Kreisverwaltung" in lists["Stellen: Träger"]
    client.force_login(warendorf.insider)
    template = load_workbook(io.BytesIO(client.get(reverse("exchange:template")).content))
    assert "Teilnehmende" in template.sheetnames and "Stellen" not in template.sheetnames
    for persona in (warendorf.steering, warendorf.district_admin):
        client.force_login(persona)
        assert client.get(reverse("exchange:imports")).status_code == 403
    with scope(district=warendorf.district.pk):
        run = services.start_import(warendorf.coordination, filename="w.xlsx", data=EXAMPLE.read_bytes())
    url = reverse("exchange:import-run", args=[run.pk])
    for persona, status in (("coordination", 200), ("lead", 404), ("insider", 404), ("steering", 403)):
        client.force_login(warendorf.personas()[persona])
        assert client.get(url).status_code == status, persona
    other = UserFactory(username="koordination-berg", role="coordination", district=warendorf.other_district)
    client.force_login(other)
    assert client.get(url).status_code == 404


def test_a_second_coordinator_sees_the_run_but_cannot_act_on_it(warendorf):
    colleague = UserFactory(username="koordination-2", role="coordination", district=warendorf.district)
    with scope(district=warendorf.district.pk):
        run = services.start_import(warendorf.coordination, filename="w.xlsx", data=EXAMPLE.read_bytes())
        assert ImportRun.objects.visible_to(colleague).filter(pk=run.pk).exists()
        with pytest.raises(PermissionDenied):
            services.request_check(colleague, run)


def test_a_providers_import_is_unchanged_beside_the_stellen(warendorf):
    """The provider's own mapping and runs stay apart from coordination's (provider, no provider)."""
    ProviderFactory(district=warendorf.district, name="AWO Warendorf", slug="awo-waf")
    through_the_import(warendorf.coordination, EXAMPLE.read_bytes())
    with scopes_disabled():
        run = ImportRun.objects.get()
        assert run.provider_id is None and run.case_manager_id is None and run.mapping.provider_id is None
        assert set(ImportedRecord.objects.values_list("provider_id", flat=True)) == {None}
