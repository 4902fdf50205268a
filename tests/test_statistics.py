"""The Land's view (kim.state_statistics): signed extracts of what each district's coordination may
publish, imported by the Land, added up across districts with suppression once more; the
attacker of tests/test_suppression.py gets every district table and the Land's and recovers
nothing. Both deployments (files from outside, one installation of several districts) give
the same numbers."""

import json
import math
import random
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation
from django_scopes import scopes_disabled

from kim.core.models import AuditEntry, Role
from kim.state_statistics import services, signing
from kim.state_statistics.extract import COUNTED_REPORTS, STAFFING_REPORTS, TOTAL_CUT, build_extract
from kim.state_statistics.extract import expected_columns as extract_columns
from kim.state_statistics.models import Extract, RegisteredDistrict
from kim.state_statistics.statewide import LAND, local_extracts, state_table, state_tables

from .factories import UserFactory, make_district
from .report_data import make_org, random_records
from .test_suppression import Attacker, load_table

YEAR = 2023


@pytest.fixture
def land(db):
    """Three districts of different sizes on one installation, each with its signing key
    registered with the Land (the same database here: the Land's tables belong to no district)."""
    orgs = []
    with scopes_disabled():
        for index, (name, cases) in enumerate([("Kreis Nord", 90), ("Kreis Mitte", 40), ("Kreis Süd", 15)]):
            org = make_org(make_district(name), municipalities=2, providers=2)
            random_records(org, random.Random(40 + index), YEAR, cases)
            key = services.make_key(None, org.district)
            services.register_district(None, org.district.slug, org.district.name, key.secret)
            orgs.append(org)
    return orgs


@pytest.fixture
def state_user(db):
    return UserFactory(username="land", role=Role.STATE)


def exported(org, year=YEAR) -> bytes:
    with scopes_disabled():
        return services.export_file(org.district, year)


def imported(state_user, raw, year=YEAR):
    with scopes_disabled():
        return services.import_extract(state_user, raw, year)


def without_time(extract):
    return {key: value for key, value in extract.items() if key != "created_at"}


# ---------------------------------------------------------------- export and import


def test_the_extract_is_what_the_coordination_publishes(land, client):
    org = land[0]
    envelope = json.loads(exported(org))
    extract = envelope["extract"]
    assert envelope["signature"]["algorithm"] == "HMAC-SHA256"
    assert set(extract["reports"]) == set(COUNTED_REPORTS + STAFFING_REPORTS)
    client.force_login(org.coordination)
    for report_id in ("R1", "R3", "R14"):
        page = client.get(f"/berichte/{report_id}/", {"year": YEAR, "format": "json", "top": 50,
                                                      "reference_date": f"{YEAR}-12-31"})
        published = json.loads(page.content)
        mine = extract["reports"][report_id]["cuts"][TOTAL_CUT]
        assert [r["values"] for r in mine["rows"]] == [r["values"] for r in published["rows"]], report_id
        assert [r["suppressed"] for r in mine["rows"]] == [r["suppressed"] for r in published["rows"]]
    cuts = extract["reports"]["R1"]["cuts"]
    assert set(cuts["municipality"]) == {str(m.pk) for m in org.municipalities}
    assert set(cuts["provider"]) == {str(p.pk) for p in org.providers}
    assert "municipality" not in extract["reports"]["R15"]["cuts"]  # per provider only
    # Catalogue rows by their statewide key, so that the Land adds up like with like.
    assert any(r["key"].startswith("c:") for r in extract["reports"]["R3"]["cuts"][TOTAL_CUT]["rows"])
    hidden = sum(len(r["suppressed"]) for report in extract["reports"].values()
                 for r in report["cuts"][TOTAL_CUT]["rows"])
    assert hidden, "the small districts should have hidden cells"


def test_no_personal_row_and_no_staff_name_leaves_the_district(land):
    org = land[0]
    text = exported(org).decode()
    with scopes_disabled():
        for manager in (m for group in org.managers.values() for m in group):
            assert manager.last_name not in text and manager.username not in text


def test_import_stores_the_extract_once_and_again_replaces_it(land, state_user):
    raw = exported(land[0])
    before = AuditEntry.objects.filter(object_type="statistics.extract").count()
    stored, replaced = imported(state_user, raw)
    assert not replaced and stored.source.slug == land[0].district.slug
    with scopes_disabled():
        expected = build_extract(land[0].district, YEAR)
    assert without_time(stored.content) == without_time(expected)
    stored_again, replaced = imported(state_user, raw)
    assert replaced and stored_again.pk == stored.pk
    assert Extract.objects.count() == 1
    entries = AuditEntry.objects.filter(object_type="statistics.extract").order_by("pk")
    assert entries.count() == before + 2
    assert entries.last().changes["unchanged"] is True and entries.last().actor == state_user


def test_the_command_line_exports_and_imports(land, tmp_path, capsys):
    path = tmp_path / "auszug.json"
    call_command("statistics", "export", "--district", land[1].district.slug, "--year", str(YEAR), "-o", str(path))
    call_command("statistics", "import", str(path), "--year", str(YEAR))
    assert "eingelesen" in capsys.readouterr().out
    assert Extract.objects.get().source.slug == land[1].district.slug


def tampered(raw):
    envelope = json.loads(raw)
    row = envelope["extract"]["reports"]["R1"]["cuts"][TOTAL_CUT]["rows"][0]
    row["values"]["n@0"] = (row["values"]["n@0"] or 0) + 1
    return json.dumps(envelope).encode()


def unsigned(raw):
    envelope = json.loads(raw)
    del envelope["signature"]
    return json.dumps(envelope).encode()


def wrong_schema(raw):
    envelope = json.loads(raw)
    del envelope["extract"]["reports"]["R3"]
    return json.dumps(envelope).encode()


def broken_table(raw):
    envelope = json.loads(raw)
    envelope["extract"]["reports"]["R2"]["cuts"][TOTAL_CUT]["rows"][0]["values"] = "viele"
    return json.dumps(envelope).encode()


def other_key(raw):
    envelope = json.loads(raw)
    secret = signing.new_secret()
    envelope["signature"]["value"] = signing.signature(envelope["extract"], secret)
    return json.dumps(envelope).encode()


BAD_FILES = [
    ("not JSON", lambda raw: b"PK\x03\x04 kein JSON", "keine JSON-Datei"),
    ("not UTF-8", lambda raw: "Auszug".encode("utf-16"), "keine JSON-Datei"),
    ("other format", lambda raw: json.dumps({"format": "etwas"}).encode(), "kein Statistik-Auszug dieser Version"),
    ("wrong schema", wrong_schema, "kein Statistik-Auszug dieser Version"),
    ("broken table", broken_table, "nicht vollständig"),
    ("unsigned", unsigned, "nicht signiert"),
    ("tampered", tampered, "Signatur passt nicht"),
    ("signed with another secret", other_key, "Signatur passt nicht"),
]


@pytest.mark.parametrize("name, spoil, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_in_german_and_changes_nothing(land, state_user, name, spoil, message):
    raw = spoil(exported(land[0]))
    audit_before = AuditEntry.objects.count()
    with translation.override("de"), pytest.raises(services.ExtractError) as refused:
        imported(state_user, raw)
    assert message in str(refused.value)
    assert Extract.objects.count() == 0 and AuditEntry.objects.count() == audit_before


def test_an_unknown_district_is_refused(land, state_user):
    raw = exported(land[0])
    RegisteredDistrict.objects.filter(slug=land[0].district.slug).delete()
    with translation.override("de"), pytest.raises(services.ExtractError, match="beim Land nicht registriert"):
        imported(state_user, raw)
    assert Extract.objects.count() == 0


def test_an_extract_of_another_year_is_refused(land, state_user):
    raw = exported(land[0])
    with translation.override("de"), pytest.raises(services.ExtractError, match="für 2023, nicht für 2024"):
        imported(state_user, raw, year=2024)
    assert Extract.objects.count() == 0


def test_a_huge_file_is_refused_before_it_is_read(land, state_user):
    raw = exported(land[0])
    with override_settings(KIM_STATISTICS_MAX_BYTES=len(raw) - 1), translation.override("de"), \
            pytest.raises(services.ExtractError, match="größer als"):
        imported(state_user, raw)
    assert Extract.objects.count() == 0


def test_a_running_year_is_not_exported(land):
    from django.utils import timezone

    from kim.reports.framework import ParamError

    with translation.override("de"), pytest.raises(ParamError, match="sobald das Jahr abgeschlossen"):
        exported(land[0], timezone.localdate().year)


def test_a_district_makes_its_key_once(land):
    with translation.override("de"), scopes_disabled(), pytest.raises(services.ExtractError, match="schon"):
        services.make_key(None, land[0].district)


# ---------------------------------------------------------------- the Land's view


def district_extracts(land):
    with scopes_disabled():
        return local_extracts([org.district for org in land], YEAR)


def test_the_land_adds_up_the_districts_published_figures(land):
    extracts = district_extracts(land)
    shown = hidden_by_land = 0
    for report_id, table in state_tables(extracts).items():
        for row in table.rows:
            for column in table.columns:
                if column["measure"] == "key":
                    continue
                land_cell = row.cells[(column["key"], LAND)]
                parts = [row.cells[(column["key"], d["slug"])] for d in table.districts]
                if any(p.hidden for p in parts):
                    assert land_cell.hidden, (report_id, row.key, column["key"])
                    continue
                total = sum(p.value or 0 for p in parts)
                if land_cell.hidden:
                    hidden_by_land += 1
                    continue
                shown += 1
                if column["unit"] == "count":
                    assert land_cell.value == total, (report_id, row.key)
                else:
                    assert land_cell.value is None or math.isclose(land_cell.value, total, abs_tol=0.01)
    assert shown > 50
    # Where every district's figure is published, so is the Land's (but for a few that the
    # audit across districts hides).
    assert hidden_by_land <= shown // 10


def test_a_district_cell_hidden_arrives_hidden(land):
    table = state_table("R3", district_extracts(land))
    small = [row for row in table.rows if row.cells[("n@0", land[2].district.slug)].hidden]
    assert small, "the small district should hide some of its target groups"
    assert all(row.cells[("n@0", LAND)].hidden for row in small)


def district_tables(extracts):
    """Every table the districts publish: (report, district, cut) -> table as downloaded."""
    for extract in extracts:
        slug = extract["district"]["slug"]
        for report_id in COUNTED_REPORTS:
            cuts = extract["reports"][report_id]["cuts"]
            yield (report_id, slug, "all"), report_id, cuts[TOTAL_CUT]
            for cut in ("municipality", "provider"):
                for member, table in cuts.get(cut, {}).items():
                    yield (report_id, slug, f"{cut[0]}{member}"), report_id, table


def test_the_attacker_recovers_no_hidden_cell_from_the_land_and_all_districts(land):
    extracts = district_extracts(land)
    attacker, hidden, below = Attacker(5), set(), set()
    loaded = {}
    for tag, report_id, table in district_tables(extracts):
        loaded[tag] = load_table(attacker, tag, {"report": report_id, **table}, hidden, below)
    # Each district's total is the sum of its providers and at least the sum of its towns.
    for (report_id, slug, name), (rows, columns) in loaded.items():
        if name != "all":
            continue
        for prefix, relation in (("p", attacker.equalities), ("m", attacker.at_least)):
            members = [t for t in loaded if t[:2] == (report_id, slug) and t[2].startswith(prefix)]
            for row in rows:
                for column in columns:
                    parts = [(t, row, column) for t in members if (t, row, column) in attacker.bounds]
                    if members and len(parts) == len(members):
                        relation.append((((report_id, slug, "all"), row, column), parts))
    # The Land's table: each of its cells is the sum of the districts' cells.
    for report_id in COUNTED_REPORTS:
        table = state_table(report_id, extracts)
        land_tag = (report_id, "Land", "all")
        payload = {"report": report_id, "columns": table.columns, "suppression": {"withheld": table.withheld},
                   "rows": [{"key": row.key, "level": row.level, "sum_of_children": row.sums_children,
                             "values": {c["key"]: row.cells[(c["key"], LAND)].value for c in table.columns},
                             "suppressed": [c["key"] for c in table.columns if row.cells[(c["key"], LAND)].hidden],
                             "below_k": [c["key"] for c in table.columns if row.cells[(c["key"], LAND)].below_k]}
                            for row in table.rows]}
        land_hidden = set()
        load_table(attacker, land_tag, payload, land_hidden, set())
        for key in land_hidden:  # a hidden Land total is no small count: anything from 0 up
            attacker.bounds[key] = [0, math.inf]
        for row in table.rows:
            for column in (c["key"] for c in table.columns if c["unit"] == "count"):
                parts = []
                for district in table.districts:
                    tag = ((report_id, district["slug"], "all"), row.key, column)
                    if tag not in attacker.bounds:  # no such row in that district: a zero
                        attacker.bounds[tag] = [0, 0]
                    parts.append(tag)
                attacker.equalities.append(((land_tag, row.key, column), parts))
    attacker.propagate()
    assert hidden, "the data should produce small counts, or the test proves nothing"
    recovered = sorted(key for key in hidden if attacker.bounds[key][0] == attacker.bounds[key][1] != 0)
    details = [(key, attacker.bounds[key]) for key in recovered[:4]]
    assert recovered == [], f"the attacker worked out {len(recovered)} hidden cells, e.g. {details}"
    narrowed = sorted(key for key in below if 0 < attacker.bounds[key][1] < (5 - 1) / 2)
    assert narrowed == [], f"the attacker narrowed {len(narrowed)} small counts, e.g. {narrowed[:4]}"


def test_the_land_hides_a_total_that_would_give_away_a_hidden_district_cell():
    """Two districts; in the second, the child "b" is hidden although its parent and its
    sibling are shown: it is worked out there as zero, which tells nothing. The Land's "b" may
    not be shown as 10, nor may the Land's parent and "a" together give it."""
    def table(a, b, b_hidden):
        rows = [{"key": "total", "label": "Alle", "level": 0, "total": True, "sum_of_children": True,
                 "values": {"n@0": a + b}, "suppressed": [], "below_k": []},
                {"key": "a", "label": "A", "level": 1, "total": False, "sum_of_children": False,
                 "values": {"n@0": a}, "suppressed": [], "below_k": []},
                {"key": "b", "label": "B", "level": 1, "total": False, "sum_of_children": False,
                 "values": {"n@0": None if b_hidden else b}, "suppressed": ["n@0"] if b_hidden else [],
                 "below_k": ["n@0"] if b_hidden else []}]
        return {"columns": [{"key": "n@0", "label": "Anzahl", "measure": "n", "unit": "count"}], "rows": rows,
                "suppression": {"applied": True, "k": 5, "withheld": False}}

    def extract(slug, a, b, b_hidden):
        return {"district": {"slug": slug, "name": slug, "suppression_k": 5}, "year": YEAR,
                "reports": {"R4": {"title": "R4", "description": "", "suppressed": True,
                                   "cuts": {TOTAL_CUT: table(a, b, b_hidden)}}}}

    result = state_table("R4", [extract("eins", 20, 10, False), extract("zwei", 12, 0, True)])
    cells = {row.key: row.cells[("n@0", LAND)] for row in result.rows}
    assert cells["b"].hidden  # a district's figure of it is hidden
    assert cells["total"].hidden or cells["a"].hidden  # else b = total - a = 10 exactly


# ---------------------------------------------------------------- one path for both deployments


def test_both_deployments_give_the_same_numbers(land, state_user, tmp_path):
    in_memory = state_tables(district_extracts(land))
    for org in land:  # the Land's installation: files from outside
        imported(state_user, exported(org))
    from_files = state_tables([e.content for e in Extract.objects.filter(year=YEAR)])
    assert snapshot(in_memory) == snapshot(from_files)
    call_command("statistics", "collect", "--year", str(YEAR))  # one installation of several districts
    collected = state_tables([e.content for e in Extract.objects.filter(year=YEAR)])
    assert snapshot(collected) == snapshot(in_memory)
    assert Extract.objects.count() == len(land)


def snapshot(tables):
    return {report_id: [(row.key, {key: (cell.value, cell.hidden, cell.below_k) for key, cell in row.cells.items()})
                        for row in table.rows] for report_id, table in tables.items()}


# ---------------------------------------------------------------- the Land's role


def test_a_state_account_has_no_district_and_no_district_permission(db):
    from django.core.exceptions import ValidationError

    with scopes_disabled():
        district = make_district("Kreis Rolle")
    state = UserFactory(username="land-in-kreis", role=Role.STATE, district=district)
    assert not state.has_perm("statistics.read_state") and not state.has_perm("reports.read")
    with pytest.raises(ValidationError):
        state.full_clean()
    assert not state.sees_personal_data


def test_the_land_reads_no_district_rows(client, world):
    client.force_login(world.state)
    for url in ("/berichte/", "/berichte/R1/", "/fallarbeit/teilnehmende/", "/stellen/", "/api/v1/participants/"):
        assert client.get(url).status_code in (403, 401, 404), url


# ---------------------------------------------------------------- the Land's pages


def test_the_land_uploads_and_reads_the_statewide_pages(client, land, state_user):
    client.force_login(state_user)
    for org in land:
        raw = exported(org)
        response = client.post("/land/hochladen/", {"year": YEAR, "file": upload(raw)})
        assert response.status_code == 302, response.content.decode()[:500]
    page = client.get("/land/", {"year": YEAR}).content.decode()
    assert all(org.district.name in page for org in land)
    shown = [(report_id, row.cells[(column["key"], LAND)].value)
             for report_id, table in state_tables([e.content for e in Extract.objects.all()]).items()
             for column in table.columns if column["unit"] == "count"
             for row in table.rows if not row.cells[(column["key"], LAND)].hidden]
    assert shown, "some of the Land's figures should be published"
    report_id, value = max(shown, key=lambda item: item[1])
    report = client.get(f"/land/bericht/{report_id}/", {"year": YEAR}).content.decode()
    assert f">{value:,}<".replace(",", ".") in report and "Land" in report
    for report_id in COUNTED_REPORTS + STAFFING_REPORTS:
        assert client.get(f"/land/bericht/{report_id}/", {"year": YEAR, "measure": "n@0"}).status_code == 200
    assert client.get("/land/bericht/R99/").status_code == 404


def upload(raw, name="auszug.json"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, raw, content_type="application/json")


def test_a_bad_upload_shows_its_message_and_changes_nothing(client, land, state_user):
    client.force_login(state_user)
    response = client.post("/land/hochladen/", {"year": YEAR, "file": upload(tampered(exported(land[0])))})
    assert response.status_code == 422
    assert "Signatur passt nicht" in response.content.decode()
    response = client.post("/land/hochladen/", {"year": YEAR + 1, "file": upload(exported(land[0]))})
    assert response.status_code == 422 and "nicht für 2024" in response.content.decode()
    assert client.post("/land/hochladen/", {}).status_code == 422
    assert Extract.objects.count() == 0


@pytest.mark.parametrize("persona", ["coordination", "steering", "district_admin", "insider", "lead"])
def test_district_roles_do_not_open_the_lands_pages(client, world, persona):
    client.force_login(world.personas()[persona])
    for url in ("/land/", "/land/hochladen/", "/land/bericht/R1/"):
        assert client.get(url).status_code == 403, url


def test_the_land_starts_on_its_figures(client, world):
    client.force_login(world.state)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/land/"
    assert "Landesweite Zahlen" in response.content.decode()


def test_a_replaced_key_is_refused_until_the_land_registers_it(land, state_user):
    with scopes_disabled():
        key = services.make_key(None, land[0].district, replace=True)
    with translation.override("de"), pytest.raises(services.ExtractError, match="anderen Schlüssel"):
        imported(state_user, exported(land[0]))
    with scopes_disabled():
        services.register_district(None, land[0].district.slug, land[0].district.name, key.secret)
    assert imported(state_user, exported(land[0]))[0].source.key_id == key.key_id


# ---------------------------------------------------------------- what a district's key signs, the Land checks


def resigned(org, extract) -> bytes:
    """A file the holder of the district's key can sign with any content (NaN written as such)."""
    with scopes_disabled():
        secret = RegisteredDistrict.objects.get(slug=org.district.slug).secret
    return json.dumps({"format": "kim-statistik", "version": 1, "extract": extract,
                       "signature": {"algorithm": "HMAC-SHA256", "key_id": signing.key_id(secret),
                                     "value": signing.signature(extract, secret)}}, allow_nan=True).encode()


def first_count(extract, report="R1"):
    table = extract["reports"][report]["cuts"]["total"]
    key = next(c["key"] for c in table["columns"] if c["unit"] == "count")
    row = next(r for r in table["rows"] if key not in r["suppressed"])
    return table, row, key


def set_count(value):
    def spoil(extract):
        _table, row, key = first_count(extract)
        row["values"][key] = value
    return spoil


def extra_column(extract):
    first_count(extract)[0]["columns"].append({"key": "zz@0", "label": "X", "measure": "zz", "unit": "count"})


def no_columns(extract):
    first_count(extract)[0]["columns"] = []


def hidden_with_value(extract):
    _table, row, key = first_count(extract)
    row["suppressed"].append(key)  # the value stays in the file


def unknown_hidden_column(extract):
    first_count(extract)[1]["suppressed"].append("zz@0")


def k_of(value):
    def spoil(extract):
        extract["district"]["suppression_k"] = value
    return spoil


def made_at(text):
    def spoil(extract):
        extract["created_at"] = text
    return spoil


IMPOSSIBLE = [
    ("a string count", set_count("abc"), "Wert, den seine Spalte nicht haben kann"),
    ("a negative count", set_count(-7), "Wert, den seine Spalte nicht haben kann"),
    ("a fraction as count", set_count(1.5), "Wert, den seine Spalte nicht haben kann"),
    ("a huge count", set_count(10**30), "Wert, den seine Spalte nicht haben kann"),
    ("NaN", set_count(float("nan")), "keine JSON-Datei"),
    ("Infinity", set_count(float("inf")), "keine JSON-Datei"),
    ("an extra column", extra_column, "Spalten des Berichts R1"),
    ("no columns", no_columns, "Spalten des Berichts R1"),
    ("a hidden cell with its value", hidden_with_value, "noch ihren Wert"),
    ("an unknown hidden column", unknown_hidden_column, "nicht vollständig"),
    ("a title that is no text", lambda extract: extract["reports"]["R1"].update(title=7), "nicht vollständig"),
    ("k below 3", k_of(-5), "zwischen 3 und 20"),
    ("k above 20", k_of(50), "zwischen 3 und 20"),
    ("made in the future", made_at("2099-01-01T00:00:00+00:00"), "in der Zukunft erstellt"),
    ("made before the year ended", made_at(f"{YEAR}-06-01T00:00:00+00:00"), "vor dem Ende seines Jahres"),
]


@pytest.mark.parametrize("name, spoil, message", IMPOSSIBLE, ids=[i[0] for i in IMPOSSIBLE])
def test_a_signed_extract_no_export_of_this_installation_writes_is_refused_and_changes_nothing(
        land, state_user, name, spoil, message):
    honest = json.loads(exported(land[0]))["extract"]
    stored, _replaced = imported(state_user, resigned(land[0], honest))
    audit_before = AuditEntry.objects.count()
    spoil(honest)
    with translation.override("de"), pytest.raises(services.ExtractError) as refused:
        imported(state_user, resigned(land[0], honest))
    assert message in str(refused.value)
    stored_now = Extract.objects.get()
    assert stored_now.digest == stored.digest and AuditEntry.objects.count() == audit_before


def test_the_land_adds_up_the_columns_of_its_own_report_definitions(land, state_user):
    with scopes_disabled():
        extracts = local_extracts([org.district for org in land], YEAR)
    table = state_table("R15", extracts)
    definition = [c["key"] for c in extract_columns("R15") if c["unit"] in ("count", "number")]
    assert [c["key"] for c in table.columns] == definition


def test_an_older_extract_does_not_replace_a_newer_one(land, state_user):
    honest = json.loads(exported(land[0]))["extract"]
    newer = dict(honest, created_at=f"{YEAR + 1}-03-01T10:00:00+00:00")
    imported(state_user, resigned(land[0], newer))
    older = dict(honest, created_at=f"{YEAR + 1}-01-15T10:00:00+00:00")
    with translation.override("de"), pytest.raises(services.ExtractError) as refused:
        imported(state_user, resigned(land[0], older))
    assert "ist neuer (erstellt 01.03." in str(refused.value)
    assert Extract.objects.get().created_at.month == 3
    imported(state_user, resigned(land[0], newer))  # the same one again: taken


def test_a_stored_extract_that_fails_todays_checks_never_breaks_the_lands_pages(client, land, state_user):
    for org in land:
        imported(state_user, exported(org))
    broken = Extract.objects.order_by("source__slug").first()
    content = broken.content
    for row in content["reports"]["R1"]["cuts"]["total"]["rows"]:
        row["values"] = {key: "abc" for key in row["values"]}
    content["reports"]["R2"]["cuts"]["total"]["columns"].append({"key": "zz@0", "label": "X", "measure": "zz",
                                                                 "unit": "count"})
    Extract.objects.filter(pk=broken.pk).update(content=content, digest="written past the import")
    client.force_login(state_user)
    for path in ("/land/", "/land/bericht/R1/", "/land/bericht/R2/"):
        page = client.get(path, {"year": YEAR}, HTTP_ACCEPT_LANGUAGE="de")
        assert page.status_code == 200, path
        assert "besteht die heutigen Prüfungen nicht" in page.content.decode(), path


@pytest.mark.django_db(transaction=True)
def test_two_first_imports_of_the_same_district_year_at_once_store_one_and_fail_neither(land, state_user, monkeypatch):
    """Both imports have checked the file before either stores it: the lock on the district's
    registration lets one store, the other then replaces it (or, had the lock failed, says
    in German to try again). Never a 500."""
    from django.db import connection, connections

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("an in-memory SQLite database shared by threads locks tables instead of waiting")
    raw = exported(land[0])
    barrier, outcomes = threading.Barrier(2), []
    checked = services.verified

    def checked_then_wait(raw_, year=None):
        result = checked(raw_, year)
        barrier.wait(timeout=30)
        return result

    def attempt():
        try:
            with scopes_disabled():
                services.import_extract(None, raw, YEAR)
            outcomes.append("done")
        except services.ExtractError as refused:
            outcomes.append(str(refused))
        finally:
            connections.close_all()

    monkeypatch.setattr(services, "verified", checked_then_wait)
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["done", "done"], outcomes
    assert Extract.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="statistics.extract").count() == 2


def test_the_same_secret_is_not_registered_for_two_districts(land):
    with scopes_disabled():
        secret = RegisteredDistrict.objects.get(slug=land[0].district.slug).secret
    with translation.override("de"), pytest.raises(services.ExtractError, match="bereits für"):
        services.register_district(None, "noch-ein-kreis", "Noch ein Kreis", secret)
    assert not RegisteredDistrict.objects.filter(slug="noch-ein-kreis").exists()


@pytest.mark.parametrize("slug", ["../böse kreis", "x" * 80])
def test_a_short_name_that_is_no_districts_short_name_is_refused_in_german(db, slug, capsys):
    with pytest.raises(CommandError, match="Kurzname"):
        call_command("statistics", "register", "--district", slug, "--name", "Kreis", "--secret", "a" * 64)
    assert not RegisteredDistrict.objects.exists()


def test_an_impossible_year_on_the_command_line_is_a_german_message(land):
    with pytest.raises(CommandError, match="zwischen 1990 und 2100"):
        call_command("statistics", "export", "--district", land[0].district.slug, "--year", "1800")


def test_a_towns_own_foreigners_office_stays_the_districts_own_row_at_the_land(land):
    """"abh-<town id>" means another town in another installation: only the statewide defaults'
    keys are added up across districts."""
    from kim.core.models import ReferralTarget
    from kim.residence.models import Office
    from kim.residence.services import release_target_for
    from kim.state_statistics.extract import _row_key_names, stable_row_key

    org = land[0]
    slug = org.district.slug
    with scopes_disabled():
        town_office = release_target_for(org.district, Office.Kind.FOREIGNERS, org.municipalities[0])
        district_office = ReferralTarget.objects.get(district=org.district, key="abh")
        names = _row_key_names(org.district)
    assert town_office.key.startswith("abh-")
    assert stable_row_key("R6", str(town_office.pk), names, slug) == f"c:{slug}.{town_office.pk}"
    assert stable_row_key("R6", str(district_office.pk), names, slug) == "c:abh"


def test_no_staff_row_of_fewer_than_k_employees_leaves_the_district(land):
    """R8 hides a row of fewer than k people (one person's working hours) and, in every sum, a
    second row, so that the hidden one is no difference; R15 goes without its rows per provider."""
    from kim.state_statistics.extract import _sum_groups

    with scopes_disabled():
        extract = build_extract(land[0].district, YEAR)
    k = extract["district"]["suppression_k"]
    rows = extract["reports"]["R8"]["cuts"][TOTAL_CUT]["rows"]
    assert any(row["suppressed"] for row in rows) and any(not row["suppressed"] for row in rows)
    for row in rows:
        people = row["values"]["people@0"]
        assert people is None or not 0 < people < k, row
    for parent, children in _sum_groups(rows).items():
        hidden = [c for c in children if rows[c]["suppressed"]]
        assert len(hidden) != 1 or rows[parent]["suppressed"], (rows[parent]["key"], [rows[c]["key"] for c in children])
    r15 = extract["reports"]["R15"]["cuts"]
    assert "provider" not in r15 and not any(row["key"].startswith("p:") for row in r15[TOTAL_CUT]["rows"])


def test_the_lands_pages_compute_a_set_of_extracts_once_and_again_after_an_import(client, land, state_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for org in land[:2]:
        imported(state_user, exported(org))
    client.force_login(state_user)

    def page_reads_contents():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/land/bericht/R1/", {"year": YEAR}).status_code == 200
        return any('"content"' in query["sql"] for query in queries.captured_queries)

    assert page_reads_contents()
    assert not page_reads_contents()  # the same extracts: the tables from the cache
    imported(state_user, exported(land[2]))
    assert page_reads_contents()
    page = client.get("/land/bericht/R1/", {"year": YEAR}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert land[2].district.name in page


def test_a_refused_import_leaves_a_line_in_the_log(land, state_user, caplog):
    with caplog.at_level("WARNING", logger="kim.statistics"), pytest.raises(services.ExtractError):
        imported(state_user, tampered(exported(land[0])))
    assert any("refused" in record.getMessage() and str(state_user.pk) in record.getMessage()
               for record in caplog.records)


def test_the_land_registers_a_secret_from_a_file_not_from_the_command_line(db, tmp_path, capsys):
    secret = signing.new_secret()
    path = tmp_path / "schluessel.txt"
    path.write_text(secret + "\n", encoding="utf-8")
    call_command("statistics", "register", "--district", "kreis-datei", "--name", "Kreis Datei",
                 "--secret-file", str(path))
    assert RegisteredDistrict.objects.get(slug="kreis-datei").secret == secret
    with pytest.raises(CommandError, match="Datei nicht gefunden"):
        call_command("statistics", "register", "--district", "kreis-x", "--name", "X",
                     "--secret-file", str(tmp_path / "fehlt"))
