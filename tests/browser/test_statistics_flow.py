"""The Land uploads the districts' extracts in Chromium: a tampered file and a file of another
year show their German message beside the field and store nothing; the good files are taken,
and the statewide report shows the districts side by side with the Land's sum. axe-core on
every step."""

import json
import random

import pytest
from django_scopes import scopes_disabled

from kim.core.models import Role
from kim.state_statistics import services
from kim.state_statistics.models import Extract

from ..factories import UserFactory, make_district
from ..report_data import make_org, random_records
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
YEAR = 2023


def district_file(tmp_path, name, cases, seed) -> tuple:
    with scopes_disabled():
        org = make_org(make_district(name), municipalities=2, providers=2)
        random_records(org, random.Random(seed), YEAR, cases)
        key = services.make_key(None, org.district)
        services.register_district(None, org.district.slug, org.district.name, key.secret)
        raw = services.export_file(org.district, YEAR)
    path = tmp_path / f"{org.district.slug}.json"
    path.write_bytes(raw)
    return org, path


def upload(page, path, year=YEAR):
    page.goto("/land/hochladen/")
    page.get_by_label("Datei des Auszugs (.json)").set_input_files(str(path))
    page.get_by_label("Jahr der Zahlen").fill(str(year))
    page.get_by_role("button", name="Hochladen").click()


def test_the_land_uploads_extracts_and_compares_the_districts(page, auditor, tmp_path):
    north, north_file = district_file(tmp_path, "Kreis Nord", 80, 1)
    south, south_file = district_file(tmp_path, "Kreis Süd", 60, 2)
    UserFactory(username="land", role=Role.STATE)
    log_in(page, "land")
    page.wait_for_url("**/land/")
    page.goto(f"/land/?year={YEAR}")
    assert page.get_by_text("Für dieses Jahr ist noch kein Auszug eingelesen.").is_visible()
    auditor.visit("land-empty")

    # A tampered file: its message beside the field, nothing stored.
    envelope = json.loads(north_file.read_bytes())
    envelope["extract"]["reports"]["R1"]["cuts"]["total"]["rows"][0]["values"]["n@0"] = 99999
    tampered = tmp_path / "verändert.json"
    tampered.write_text(json.dumps(envelope), encoding="utf-8")
    upload(page, tampered)
    page.locator("#id_file_error").get_by_text("Die Signatur passt nicht zum Inhalt").wait_for()
    auditor.visit("land-upload-tampered")
    upload(page, north_file, year=YEAR + 1)
    page.locator("#id_file_error").get_by_text(f"Der Auszug ist für {YEAR}, nicht für {YEAR + 1}.").wait_for()
    with scopes_disabled():
        assert not Extract.objects.exists()

    upload(page, north_file)
    page.get_by_text(f"Der Auszug von Kreis Nord für {YEAR} ist eingelesen.").wait_for()
    upload(page, south_file)
    page.get_by_text(f"Der Auszug von Kreis Süd für {YEAR} ist eingelesen.").wait_for()
    upload(page, south_file)  # again: replaces
    page.get_by_text(f"Der Auszug von Kreis Süd für {YEAR} hat den früheren ersetzt.").wait_for()
    auditor.visit("land-index")
    with scopes_disabled():
        assert Extract.objects.count() == 2

    page.get_by_role("link", name="R3", exact=False).first.click()
    page.wait_for_url("**/land/bericht/R3/**")
    assert page.get_by_role("columnheader", name="Kreis Nord").is_visible()
    assert page.get_by_role("columnheader", name="Kreis Süd").is_visible()
    assert page.get_by_role("columnheader", name="Land").first.is_visible()
    auditor.visit("land-report")
