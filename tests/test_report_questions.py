"""Every entry point asks the same rules what an aggregate reader may ask (reports/questions.py):
the report page, the API, `kim report` and the committee paper refuse the same forbidden
questions with the same German reason, and answer the provider's lead, who owns the data."""

import contextlib
import io
from datetime import date

import pytest
from django.core.management import execute_from_command_line
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core.models import Municipality
from kim.reports.models import CommitteePaper
from kim.reports.questions import default_params, default_reference_date

from .test_api import Api

THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1

# (report, parameters, a words of the German refusal)
FORBIDDEN = {
    "one day, one municipality (R15)": ("R15", {"period": "custom", "start": f"{LAST_YEAR}-03-02",
                                                "end": f"{LAST_YEAR}-03-02", "municipality": "TOWN",
                                                "reference_date": f"{LAST_YEAR}-12-31"}, "ganze Kalenderjahre"),
    "a custom year (R1)": ("R1", {"period": "custom", "start": f"{LAST_YEAR}-01-01", "end": f"{LAST_YEAR}-12-31"},
                           "ganze Kalenderjahre"),
    "a quarter": ("R1", {"period": "quarter", "year": str(LAST_YEAR), "number": "2"}, "ganze Kalenderjahre"),
    "a half-year (R15)": ("R15", {"period": "half", "year": str(LAST_YEAR), "number": "1",
                                  "reference_date": f"{LAST_YEAR}-06-30"}, "ganze Kalenderjahre"),
    "a half-year (R9 funding)": ("R9", {"period": "half", "year": str(LAST_YEAR), "number": "1"}, "Kalenderjahr"),
    "a month (R4)": ("R4", {"period": "month", "year": str(LAST_YEAR), "number": "3"}, "ganze Kalenderjahre"),
    "the running year": ("R1", {"year": str(THIS_YEAR)}, "abgeschlossen"),
    "15 March (R3)": ("R3", {"year": str(LAST_YEAR), "reference_date": f"{LAST_YEAR}-03-15"}, "30.06. und 31.12."),
    "1 July (R10)": ("R10", {"year": str(LAST_YEAR), "reference_date": f"{LAST_YEAR}-07-01"}, "30.06. und 31.12."),
    "a 31 December to come (R3)": ("R3", {"year": str(LAST_YEAR), "reference_date": f"{THIS_YEAR}-12-31"},
                                   "vorüber"),
    "municipality and provider (R4)": ("R4", {"year": str(LAST_YEAR), "municipality": "TOWN",
                                              "provider": "PROVIDER"}, "nicht beides"),
    "topics counted by case (R2)": ("R2", {"year": str(LAST_YEAR), "unit": "cases"}, "Themennennungen"),
    "providers in one town (R15)": ("R15", {"year": str(LAST_YEAR), "reference_date": f"{LAST_YEAR}-12-31",
                                            "municipality": "TOWN"}, "eine Zeile je Träger"),
}
# The committee paper has fields for the year and the reference date only: it cannot ask for a
# part of a year, a municipality, a provider or topics by case, so only these are put to it.
PAPER_FIELDS = {"year", "reference_date"}
ENTRIES = [(name, entry) for name, (_r, params, _m) in FORBIDDEN.items()
           for entry in ("page", "api", "command line", "paper")
           if entry != "paper" or set(params) <= PAPER_FIELDS]


def concrete(params, world):
    with scopes_disabled():
        town = Municipality.objects.filter(district=world.district).first() or Municipality.objects.create(
            district=world.district, name="Hilden")
    replace = {"TOWN": str(town.pk), "PROVIDER": str(world.provider.pk)}
    return {key: replace.get(value, value) for key, value in params.items()}


def ask_page(client, user, report, params):
    client.force_login(user)
    response = client.get(reverse("reports:report", args=[report]), params, HTTP_ACCEPT_LANGUAGE="de")
    return response.status_code, response.content.decode()


def ask_api(user, report, params):
    response = Api(user).get(f"reports/{report}/", **params)
    return response.status_code, response.content.decode()


def ask_command_line(user, report, params):
    """`kim report` as the operator types it: the exit code and what it printed."""
    argv = ["kim", "report", report, "--district", user.district.slug, "--as", user.username]
    for key, value in params.items():
        argv += [f"--{key.replace('_', '-')}", value]
    out, err = io.TextIOWrapper(io.BytesIO()), io.StringIO()  # the command writes bytes to stdout
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            execute_from_command_line(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


def ask_paper(client, user, report, params):
    client.force_login(user)
    response = client.post(reverse("reports:paper-new"), {
        "title": "Sachstandsbericht", "year": params.get("year", str(LAST_YEAR)),
        "reference_date": params.get("reference_date", f"{LAST_YEAR}-12-31"), "report_ids": [report],
    }, HTTP_ACCEPT_LANGUAGE="de")
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("question, entry", ENTRIES, ids=[f"{q} via {e}" for q, e in ENTRIES])
def test_every_entry_point_refuses_the_same_forbidden_question(client, world, question, entry, capsys):
    report, params, reason = FORBIDDEN[question]
    params = concrete(params, world)
    if entry == "page":
        status, text = ask_page(client, world.coordination, report, params)
        assert status == 422 and 'role="alert"' in text
    elif entry == "api":
        status, text = ask_api(world.coordination, report, params)
        assert status == 400
    elif entry == "command line":
        status, text = ask_command_line(world.coordination, report, params)
        assert status != 0
    else:
        status, text = ask_paper(client, world.coordination, report, params)
        assert status == 422
        with scopes_disabled():
            assert not CommitteePaper.objects.exists(), "a refused paper must not be saved"
    assert reason in text, text[-2000:]


# Funding is granted per calendar year: R9 refuses half a year to every reader.
@pytest.mark.parametrize("question", [q for q in FORBIDDEN if q not in ("topics counted by case (R2)",
                                                                         "a half-year (R9 funding)")])
def test_the_provider_lead_may_ask_the_same_of_the_own_records(client, world, question):
    """The refusal comes from the rules for aggregate readers, not from a broken question."""
    report, params, _reason = FORBIDDEN[question]
    params = concrete(params, world)
    status, text = ask_page(client, world.lead, report, params)
    assert status == 200, text[-2000:]
    assert ask_api(world.lead, report, params)[0] == 200
    assert ask_command_line(world.lead, report, {**params, "format": "json"})[0] == 0


def test_late_in_november_the_owner_sees_the_running_year_and_the_district_the_last_one(world):
    late_november = date(2026, 11, 25)
    assert default_params(world.lead, today=late_november).period.start == date(2026, 1, 1)
    assert default_params(world.lead, today=late_november).reference_date == late_november
    for reader in (world.coordination, world.steering):
        assert default_params(reader, today=late_november).period.start == date(2025, 1, 1)
        assert default_reference_date(reader, today=late_november) == date(2026, 6, 30)
    assert default_reference_date(world.coordination, today=date(2027, 1, 1)) == date(2026, 12, 31)


def test_the_report_page_offers_the_default_year_of_its_reader(client, world):
    client.force_login(world.lead)
    page = client.get(reverse("reports:report", args=["R1"])).content.decode()
    assert f'name="year" value="{THIS_YEAR}"' in page
    client.force_login(world.coordination)
    page = client.get(reverse("reports:report", args=["R1"])).content.decode()
    assert f'name="year" value="{LAST_YEAR}"' in page
