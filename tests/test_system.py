"""Module 1, first part: need reports from case work and generative themes. The guard keeps
personal data inside the provider; every change is a service with its audit entry; who sees
what follows the personas of case work."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope, scopes_disabled

from kim.core.models import AuditEntry
from kim.system import services
from kim.system.guard import personal_data_in
from kim.system.models import NeedReport, Theme


@pytest.fixture
def zarifa(world):
    """The insider's participant Zarifa Qasimova, with a birth date of her own."""
    with scopes_disabled():
        world.participant.birth_date = date(1990, 3, 4)
        world.participant.save()
    return world.participant


@pytest.mark.parametrize("text", [
    "Frau Qasimova bekommt keinen Kitaplatz.",
    "qasimova wartet seit Monaten",
    "Zarifa wartet seit Monaten",
    "Qasımova (anders geschrieben) wartet",
    "Q\u200basimova mit unsichtbarem Zeichen",
    "geboren am 04.03.1990",
    "geb. 4.3.90",
    "1990-03-04 ist ihr Geburtstag",
    "am 4. März 1990 geboren",
    "Fall F-{case} zeigt es",
    "Fall f{case} zeigt es",
    "Code {code}",
    "Code {code_lower}",
])
def test_the_guard_finds_names_dates_codes_and_case_numbers(world, zarifa, text):
    text = text.format(case=f"{world.case.pk:05d}", code=zarifa.code, code_lower=zarifa.code.lower())
    with scope(district=world.district.pk):
        assert personal_data_in(text, world.insider), text


@pytest.mark.parametrize("text", [
    "Kinder, die im Sprachtest schlecht abschneiden, bekommen keine Sprachförderung.",
    "Die Ausländerbehörde braucht 9 Monate für eine Verlängerung (Stand 01.02.2025).",
    "Mehrere Familien aus Südosteuropa finden keine Wohnung.",
])
def test_general_texts_pass_the_guard(world, zarifa, text):
    with scope(district=world.district.pk):
        assert personal_data_in(text, world.insider) == []


def test_the_guard_knows_only_the_people_its_author_sees(world, zarifa):
    """A colleague at another provider may write the same surname: it names nobody they see
    (written without a form of address, which the guard refuses by form alone)."""
    with scope(district=world.district.pk):
        assert personal_data_in("Qasimova", world.other_provider_cm) == []
        assert personal_data_in(f"Fall {world.case.pk}", world.other_provider_cm) == []
        assert [hit.kind for hit in personal_data_in("Frau Qasimova", world.insider)] == ["name", "name"]


@pytest.mark.parametrize(("text", "kind"), [
    ("Frau Nasser kam mit ihrem Sohn.", "name"),
    ("Gespräch mit Herrn Ilić über die Wohnung.", "name"),
    ("geboren am 03.04.1987 in Aleppo", "birth date"),
    ("geb. 3. April 1987", "birth date"),
    ("siehe TN-AB12CD34", "code"),
    ("wie in F-00042 beschrieben", "case number"),
])
def test_the_guard_refuses_by_form_what_no_author_can_compare(world, text, kind):
    """Coordination sees no participant: names after a form of address, old full dates, codes
    and case numbers are refused by their form, without looking anyone up."""
    with scope(district=world.district.pk):
        assert kind in [hit.kind for hit in personal_data_in(text, world.coordination)]


@pytest.mark.parametrize("text", [
    "Frau A. und ihre Kinder, Zielgruppe Südosteuropa, seit 2019 in Deutschland.",
    "Termin bei der Ausländerbehörde am 12.03.2025 ohne Dolmetschung.",
    "Familie mit drei Kindern wartet seit Monaten auf einen Kitaplatz.",
])
def test_anonymised_vignettes_pass_the_guard(world, text):
    with scope(district=world.district.pk):
        assert personal_data_in(text, world.coordination) == []


def report_values(**values):
    return {"challenge": "Kinder mit schlechtem Sprachtest bekommen keine Sprachförderung.",
            "legal_domains": ["sgb8", "school"], "frequency": NeedReport.Frequency.OFTEN, **values}


def test_a_report_naming_a_participant_is_refused_and_nothing_is_sent(world, zarifa):
    with scope(district=world.district.pk):
        with pytest.raises(ValidationError) as refused:
            services.send_need_report(world.insider, report_values(challenge="Frau Qasimova, geb. 04.03.1990"))
        message = " ".join(refused.value.message_dict["challenge"])
        assert "ein Name („qasimova“)" in message and "ein Geburtsdatum" in message
        assert NeedReport.objects.count() == 0


def test_a_report_is_sent_with_its_case_and_audited(world, zarifa):
    with scope(district=world.district.pk):
        report = services.send_need_report(world.insider, report_values(), cases=[world.case])
        assert report.provider == world.provider and list(report.cases.all()) == [world.case]
    with scopes_disabled():
        entry = AuditEntry.objects.get(object_type="system.needreport", action="create")
    assert entry.actor == world.insider and entry.changes["challenge"][1].startswith("Kinder")


def test_a_report_cannot_link_a_case_its_author_does_not_see(world):
    with scope(district=world.district.pk), pytest.raises(PermissionDenied):
        services.send_need_report(world.other_provider_cm, report_values(), cases=[world.case])


def test_who_sees_a_report(world):
    with scope(district=world.district.pk):
        report = services.send_need_report(world.insider, report_values(), cases=[world.case])
        seen = {name: NeedReport.objects.visible_to(user).filter(pk=report.pk).exists()
                for name, user in world.personas().items()}
        assert seen == {"insider": True, "colleague": False, "lead": True, "other_provider": False,
                        "other_district": False, "coordination": True, "steering": False,
                        "district_admin": False}
        # Before triage the steering group sees nothing of it; after, the report (never its cases).
        theme = services.create_theme(world.coordination, {"title": "Sprachförderung nach dem Sprachtest"})
        services.triage_need_report(world.coordination, report, NeedReport.Status.MERGED, theme=theme)
        assert NeedReport.objects.visible_to(world.steering).filter(pk=report.pk).exists()
        assert services.linked_case_count(report) == 1


def test_only_coordination_triages_and_themes_need_a_reason_to_fail(world):
    with scope(district=world.district.pk):
        report = services.send_need_report(world.insider, report_values())
        for user in (world.insider, world.lead, world.steering, world.district_admin):
            with pytest.raises(PermissionDenied):
                services.triage_need_report(user, report, NeedReport.Status.ACCEPTED)
        with pytest.raises(ValidationError, match="Thema"):
            services.triage_need_report(world.coordination, report, NeedReport.Status.MERGED)
        with pytest.raises(ValidationError):
            services.triage_need_report(world.coordination, report, NeedReport.Status.DECLINED, response=" ")
        theme = services.create_theme(world.coordination, {"title": "Wohnen"})
        with pytest.raises(ValidationError, match="nicht zustande"):
            services.update_theme(world.coordination, theme, {"status": Theme.Status.FAILED})
        services.update_theme(world.coordination, theme, {"status": Theme.Status.FAILED,
                                                           "failure_reason": "Kein Träger gefunden"})
        assert Theme.objects.get(pk=theme.pk).status == Theme.Status.FAILED


# ---------------------------------------------------------------- the pages

from django.urls import reverse  # noqa: E402


def test_a_case_manager_reports_a_need_and_a_name_is_refused_on_the_page(client, world, zarifa):
    client.force_login(world.insider)
    refused = client.post(reverse("system:need-report-new"), {"challenge": "Frau Qasimova wartet", "frequency": "once"})
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "Der Text nennt eine*n Teilnehmende*n" in text and "Frau Qasimova wartet" in text  # the input stays
    sent = client.post(reverse("system:need-report-new"), {"challenge": "Keine Kitaplätze für Geflüchtete",
                                                           "frequency": "often", "legal_domains": ["sgb8"]})
    assert sent.status_code == 302
    page = client.get(reverse("system:my-need-reports")).content.decode()
    assert "Keine Kitaplätze für Geflüchtete" in page and "gemeldet" in page


@pytest.mark.parametrize("url_name, allowed", [
    ("system:need-report-new", {"insider", "colleague", "lead", "other_provider", "other_district"}),
    ("system:my-need-reports", {"insider", "colleague", "lead", "other_provider", "other_district"}),
    ("system:inbox", {"coordination"}),
])
def test_who_opens_which_page(client, world, url_name, allowed):
    for name, user in world.personas().items():
        client.force_login(user)
        status = client.get(reverse(url_name)).status_code
        assert (status == 200) == (name in allowed), (name, status)


def test_coordination_triages_on_the_page(client, world):
    with scope(district=world.district.pk):
        report = services.send_need_report(world.insider, report_values(), cases=[world.case])
    client.force_login(world.coordination)
    page = client.get(reverse("system:need-report", args=[report.pk])).content.decode()
    assert "verknüpfte Fälle" in page and world.case.number not in page
    refused = client.post(reverse("system:need-report", args=[report.pk]), {"status": "merged"})
    assert refused.status_code == 422 and "Bitte wählen Sie das Thema" in refused.content.decode()
    done = client.post(reverse("system:need-report", args=[report.pk]),
                       {"status": "answered", "response": "Projektgruppe DELFIN 4"})
    assert done.status_code == 302
    with scopes_disabled():
        assert NeedReport.objects.get(pk=report.pk).status == "answered"
    client.force_login(world.insider)
    assert "Projektgruppe DELFIN 4" in client.get(reverse("system:my-need-reports")).content.decode()


def test_a_need_reported_from_a_case_is_linked_inside_the_provider(client, world):
    url = reverse("system:need-report-new") + f"?fall={world.case.pk}"
    client.force_login(world.other_provider_cm)
    assert client.get(url).status_code == 404  # a case of another provider
    client.force_login(world.insider)
    with scopes_disabled():
        before = AuditEntry.objects.filter(action="read", object_type="casework.case").count()
    page = client.get(url).content.decode()
    assert world.case.number in page
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="read", object_type="casework.case").count() == before + 1
    assert client.post(url, {"challenge": "Keine Kitaplätze", "frequency": "once"}).status_code == 302
    with scopes_disabled():
        assert list(NeedReport.objects.get().cases.all()) == [world.case]
    assert f"?fall={world.case.pk}" in client.get(reverse("casework:case", args=[world.case.pk])).content.decode()


def test_themes_are_read_by_aggregate_readers_and_written_by_coordination(client, world):
    with scope(district=world.district.pk):
        theme = services.create_theme(world.coordination, {"title": "Wohnraum für große Familien"})
        report = services.send_need_report(world.insider, report_values(), cases=[world.case])
        services.triage_need_report(world.coordination, report, NeedReport.Status.MERGED, theme=theme)
    readers = {"coordination", "steering"}
    for name, user in world.personas().items():
        client.force_login(user)
        for url in (reverse("system:themes"), reverse("system:theme", args=[theme.pk])):
            assert (client.get(url).status_code == 200) == (name in readers), (name, url)
        assert (client.get(reverse("system:theme-new")).status_code == 200) == (name == "coordination"), name
    client.force_login(world.steering)
    page = client.get(reverse("system:theme", args=[theme.pk])).content.decode()
    assert "Kinder mit schlechtem Sprachtest" in page and "1 Fall" in page and world.case.number not in page


def test_a_failed_theme_without_a_reason_is_refused_on_the_page(client, world):
    client.force_login(world.coordination)
    answer = client.post(reverse("system:theme-new"), {"title": "Kita", "status": "failed"})
    assert answer.status_code == 422
    assert "Ein Thema, das nicht zustande kam, nennt den Grund." in answer.content.decode()
    with scopes_disabled():
        assert not Theme.objects.exists()
    answer = client.post(reverse("system:theme-new"), {"title": "Kita", "status": "collected",
                                                       "planned_year": 2027, "planned_quarter": 2})
    assert answer.status_code == 302
    assert "Q2/2027" in client.get(reverse("system:themes")).content.decode()


def test_only_the_districts_coordinators_can_be_responsible_for_a_theme(client, world):
    """Accounts are not scoped by district: the form and the service limit them (review)."""
    from .factories import UserFactory

    foreign = UserFactory(username="koordination-berg", role="coordination", district=world.other_district)
    client.force_login(world.coordination)
    form = client.get(reverse("system:theme-new")).context["form"]
    assert list(form.fields["responsible"].queryset) == [world.coordination]
    with scope(district=world.district.pk), pytest.raises(ValidationError):
        services.create_theme(world.coordination, {"title": "Wohnen", "responsible": foreign})
    with scope(district=world.district.pk), pytest.raises(ValidationError, match="Grund|zustande"):
        theme = services.create_theme(world.coordination, {"title": "Arbeit"})
        services.update_theme(world.coordination, theme, {"status": "failed", "failure_reason": " "})
