"""Module 1, first part: need reports from case work and generative themes. The guard keeps
personal data inside the provider; every change is a service with its audit entry; who sees
what follows the personas of case work."""

import time
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope, scopes_disabled

from kim.casework.models import Participant
from kim.casework.rules import visible_text
from kim.casework.search import fold
from kim.core.models import AuditEntry
from kim.system import services
from kim.system.guard import Written, personal_data_in
from kim.system.models import NeedReport, Theme

from .factories import CaseFactory, ParticipantFactory


@pytest.fixture
def zarifa(world):
    """The insider's participant Zarifa Qasimova, with a birth date of her own."""
    with scopes_disabled():
        world.participant.birth_date = date(1990, 3, 4)
        world.participant.save()
    return world.participant


@pytest.fixture
def khaled(world):
    """Two more participants of the insider's, as in the attack of issue 10: Khaled Darwish
    (born 05.05.1986, TN-F86BTQUU, with a case) and Khalid Şahin (born 13.01.1987)."""
    darwish = ParticipantFactory(responsible=world.insider, first_name="Khaled", last_name="Darwish",
                                 birth_date=date(1986, 5, 5), code="TN-F86BTQUU")
    ParticipantFactory(responsible=world.insider, first_name="Khalid", last_name="Şahin",
                       birth_date=date(1987, 1, 13))
    return CaseFactory(participant=darwish)


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


def test_a_code_is_read_as_written_not_folded(world):
    """Folding reads "ae" as "a" for names; a code with "AE" in it must still be found."""
    ParticipantFactory(responsible=world.insider, code="TN-KAE2UEOQ")
    with scope(district=world.district.pk):
        assert [hit.text for hit in personal_data_in("Code tn-kae2ueoq", world.insider)] == ["tn-kae2ueoq"]


# What a case manager writes about the participants she sees (issue 10, F1 and F4): each is
# refused, and the message quotes what she wrote.
@pytest.mark.parametrize(("text", "quoted"), [
    # F1: names with the genitive s
    ("Khaleds Antrag auf einen Kitaplatz liegt beim Jugendamt.", "Khaleds"),
    ("Darwishs Sohn wartet auf einen Kitaplatz.", "Darwishs"),
    ("Khalid's Tochter wartet.", "Khalid's"),
    ("Khaled’s Tochter wartet.", "Khaled’s"),
    ("Şahins Tochter wartet.", "Şahins"),
    ("Zarifas Tochter wartet.", "Zarifas"),
    ("Sahins Tochter wartet.", "Sahins"),
    # F4: codes written otherwise, and without "TN"
    ("siehe TN_F86BTQUU", "TN_F86BTQUU"),
    ("siehe TN/F86BTQUU", "TN/F86BTQUU"),
    ("siehe TN.F86BTQUU", "TN.F86BTQUU"),
    ("siehe TN:F86BTQUU", "TN:F86BTQUU"),
    ("siehe TN--F86BTQUU", "TN--F86BTQUU"),
    ("siehe TN F86B TQUU", "TN F86B TQUU"),
    ("siehe Code F86BTQUU.", "F86BTQUU"),
    ("siehe f86b-tquu", "f86b-tquu"),
    # F4: the case number with a usual prefix
    ("wie in Fall {case} beschrieben", "Fall {case}"),
    ("wie in Fallnr. {case} beschrieben", "Fallnr. {case}"),
    ("wie in Fall-Nr. {case} beschrieben", "Fall-Nr. {case}"),
    ("wie in F_{case} beschrieben", "F_{case}"),
    ("wie in F.{case} beschrieben", "F.{case}"),
    ("wie in #{case} beschrieben", "#{case}"),
    ("wie in F-{case:05d} beschrieben", "F-{case:05d}"),
    # F4: birth dates in other spellings
    ("Antrag vom 1986/05/05", "1986/05/05"),
    ("Antrag vom 1987.01.13", "1987.01.13"),
    ("Antrag vom 13 01 1987", "13 01 1987"),
    ("Antrag vom 19870113", "19870113"),
    ("Antrag vom 13.1.87", "13.1.87"),
    ("Antrag vom 13. Januar 1987", "13. Januar 1987"),
    ("Antrag vom 13. Jänner 1987", "13. Jänner 1987"),
    ("Antrag vom 5. Mai 1986", "5. Mai 1986"),
    ("Antrag vom Mai 5, 1986", "Mai 5, 1986"),
    ("Antrag vom January 13, 1987", "January 13, 1987"),
    ("Antrag vom 13-Jan-1987", "13-Jan-1987"),
    ("Antrag vom 05.05.'86", "05.05.'86"),
    ("Antrag vom 01/13/1987", "01/13/1987"),  # the American order
    # the attack's need report, all at once
    ("Khaleds Antrag liegt beim Jugendamt (Fall {case}, geb. 1986/05/05, Code F86BTQUU).", "Khaleds"),
])
def test_a_case_manager_cannot_send_what_names_her_participants(world, khaled, text, quoted):
    text, quoted = text.format(case=khaled.pk), quoted.format(case=khaled.pk)
    with scope(district=world.district.pk), pytest.raises(ValidationError) as refused:
        services.refuse_personal_data(world.insider, challenge=text)
    assert f"(„{quoted}“)" in " ".join(refused.value.message_dict["challenge"]), text


@pytest.mark.parametrize("text", [
    "Kinder, die im Sprachtest schlecht abschneiden, bekommen keine Sprachförderung.",
    "Die Ausländerbehörde braucht 9 Monate für eine Verlängerung (Stand 01.02.2025).",
    "Mehrere Familien aus Südosteuropa finden keine Wohnung.",
    # numbers that are no case of hers, dates that are no birth date of hers
    "Fall 99999 aus einem anderen Kreis, Formular F-100 fehlte, Priorität #1000.",
    "Seit Inkrafttreten des SGB II am 01.01.2005 gilt das.",
    "Antrag vom 05.05.2024, Einreise am 01.09.2010.",
    "Die TN erzählen von langen Wartezeiten; TN wünschen sich mehr Sprachkurse.",
    "Die Khalifa-Stiftung fördert Kitaplätze.",
])
def test_general_texts_pass_the_guard(world, zarifa, khaled, text):
    with scope(district=world.district.pk):
        assert personal_data_in(text, world.insider) == []


def test_a_short_name_with_an_s_is_another_word(world):
    """The genitive s counts after names of four letters or more: Mei Hau's "Haus" is a house."""
    ParticipantFactory(responsible=world.insider, first_name="Mei", last_name="Hau")
    with scope(district=world.district.pk):
        assert personal_data_in("Das Haus hat keinen Aufzug.", world.insider) == []
        assert [hit.text for hit in personal_data_in("Hau's Kinder", world.insider)] == ["Hau's"]


def test_the_guard_knows_only_the_people_its_author_sees(world, zarifa, khaled):
    """A colleague at another provider may write the same surname: it names nobody they see
    (written without a form of address, which the guard refuses by form alone)."""
    with scope(district=world.district.pk):
        for text in ("Qasimova", "Khaleds Antrag", "Code F86BTQUU", "Antrag vom 1986/05/05", f"Fall {world.case.pk}",
                     f"Fall {khaled.pk}"):
            assert personal_data_in(text, world.other_provider_cm) == [], text
        # Found both ways (her name, and a name after a form of address), reported once.
        assert [(hit.kind, hit.text) for hit in personal_data_in("Frau Qasimova", world.insider)] == [
            ("name", "Frau Qasimova")]


@pytest.mark.parametrize(("text", "kind"), [
    ("Frau Nasser kam mit ihrem Sohn.", "name"),
    ("Gespräch mit Herrn Ilić über die Wohnung.", "name"),
    ("geboren am 03.04.1987 in Aleppo", "birth date"),
    ("geb. 3. April 1987", "birth date"),
    ("siehe TN-AB12CD34", "code"),
    ("wie in F-00042 beschrieben", "case number"),
])
def test_the_guard_refuses_by_form_what_no_author_can_compare(world, text, kind):
    """Coordination sees no participant: names after a form of address, full dates of birth,
    codes and case numbers are refused by their form, without looking anyone up."""
    with scope(district=world.district.pk):
        assert kind in [hit.kind for hit in personal_data_in(text, world.coordination)]


# What coordination writes (issue 10, F2 and F3): refused by form, quoted as written.
@pytest.mark.parametrize(("text", "quoted"), [
    ("Frau Şahin und Herr Çelik aus Bosnien warten auf die Anerkennung.", "Frau Şahin"),
    ("Frau Şahin und Herr Çelik aus Bosnien warten auf die Anerkennung.", "Herr Çelik"),
    ("Frau Šarić wartet.", "Frau Šarić"),
    ("Herr Ćosić wartet.", "Herr Ćosić"),
    ("Frau Žukić wartet.", "Frau Žukić"),
    ("Herr Łukasz wartet.", "Herr Łukasz"),
    ("Frau İnce wartet.", "Frau İnce"),
    ("Frau S\u0327ahin (mit kombinierender Cedille) wartet.", "Frau S\u0327ahin"),
    ("Frau El-Sayed wartet.", "Frau El-Sayed"),
    ("Frau de Vries wartet.", "Frau de Vries"),
    ("Herr van der Berg wartet.", "Herr van der Berg"),
    ("Frau al-Hassan wartet.", "Frau al-Hassan"),
    ("Frau Ng wartet.", "Frau Ng"),
    ("Fr. Nasser wartet.", "Fr. Nasser"),
    ("Hr. Nasser wartet.", "Hr. Nasser"),
    ("Termin mit Herrn Dr. Nasser.", "Herrn Dr. Nasser"),
    ("Termin mit frau Nasser.", "frau Nasser"),
    ("TERMIN MIT FRAU NASSER.", "FRAU NASSER"),
    ("Frau Nassers Kinder warten.", "Frau Nassers"),
    ("Familie Nasser wartet.", "Familie Nasser"),
    ("Geb.-Dat.: 03.04.1985", "03.04.1985"),
    ("Geburtsdatum 1985-04-03", "1985-04-03"),
    ("* 03.04.1985 in Aleppo", "03.04.1985"),
    ("am 3. April 1985 geboren", "3. April 1985"),
    ("geb. in Aleppo am 03.04.1985", "03.04.1985"),
    ("Code TNF86BTQUU", "TNF86BTQUU"),
    ("Code TN–F86BTQUU", "TN–F86BTQUU"),
    ("Code TN F86B TQUU", "TN F86B TQUU"),
    ("Code TN_AB12CD34", "TN_AB12CD34"),
    ("siehe F-00042", "F-00042"),
])
def test_coordination_cannot_send_what_names_someone_by_form(world, text, quoted):
    with scope(district=world.district.pk), pytest.raises(ValidationError) as refused:
        services.refuse_personal_data(world.coordination, vignette=text)
    assert f"(„{quoted}“)" in " ".join(refused.value.message_dict["vignette"]), text


@pytest.mark.parametrize("text", [
    "Frau A. und ihre Kinder, Zielgruppe Südosteuropa, seit 2019 in Deutschland.",
    "Termin bei der Ausländerbehörde am 12.03.2025 ohne Dolmetschung.",
    "Familie mit drei Kindern wartet seit Monaten auf einen Kitaplatz.",
    # F3: a form of address followed by what describes the person, not a name
    "Eine Frau Mitte 40 mit zwei Kindern wartet seit einem Jahr auf einen Integrationskurs.",
    "Ein Herr Anfang 60 sucht Arbeit.",
    "Die Familie Ende 2023 zugezogen, drei Kinder.",
    "Eine Frau aus Syrien, ein Herr mit Duldung, eine Familie im Alter von 30 bis 40.",
    "Die Frau Doktor der Kinderklinik rief an.",
    "EINE FRAU MIT ZWEI KINDERN.",
    "Sprechzeiten Mo.–Fr. Vormittag",
    # F3: TN for Teilnehmende
    "Die TN erzählen von langen Wartezeiten bei der Ausländerbehörde.",
    "Die TN wünschen sich mehr Sprachkurse.",
    "TN kritisch gegenüber Ämtern.",
    "3 TN Beratung, TN: 25 Frauen, TN-Beratung im Rathaus.",
    # F3: dates without birth context
    "Seit Inkrafttreten des SGB II am 01.01.2005 gilt der Vorrang.",
    "Zuwanderungsgesetz vom 30.07.2004.",
    "Einreise am 01.09.2010.",
    "Die Kinder sind hier geboren. Einreise am 01.09.2010.",
    "Teilnehmer*innen am 03.04.2010 befragt.",
    # a form's number is no case number
    "Formular F-100 fehlte.",
])
def test_anonymised_vignettes_pass_the_guard(world, text):
    with scope(district=world.district.pk):
        assert personal_data_in(text, world.coordination) == []


def test_the_message_quotes_the_authors_words_not_the_folded_text(world):
    with scope(district=world.district.pk), pytest.raises(ValidationError) as refused:
        services.refuse_personal_data(world.coordination, topics_raised="Die TN-ÄBCDEFG2 erzählen.")
    message = " ".join(refused.value.message_dict["topics_raised"])
    assert "„TN-ÄBCDEFG2“" in message and "abcdefg2" not in message


@pytest.mark.parametrize("text", ["Frau Qasimova, geb. 04.03.1990", "Q\u200basimova Straße 12"])
def test_the_guard_reads_the_text_like_the_search(text):
    """The guard's folded view, character by character, is the search's fold of what a reader sees."""
    assert Written(text).folded == fold(visible_text(text))


def test_the_guard_stays_fast_for_an_author_who_sees_a_thousand_participants(world):
    with scopes_disabled():
        Participant.objects.bulk_create([
            Participant(district=world.district, provider=world.provider, responsible=world.insider,
                        municipality=world.participant.municipality, first_name=f"Vorname{n:04d}",
                        last_name="Nachname" + "abcdefghjk"[n % 10] * 3, birth_date=date(1980, 1, 1) + timedelta(days=n),
                        code=f"TN-X{n:04d}XYZ".replace("0", "A").replace("1", "B"))
            for n in range(1000)])
    text = ("Kinder mit schlechtem Sprachtest bekommen keine Sprachförderung, seit 01.01.2005 "
            "und am 12.03.2025 auch nicht; Fall 12, #3. ") * 40
    with scope(district=world.district.pk):
        started = time.perf_counter()
        assert personal_data_in(text, world.insider) == []
        assert time.perf_counter() - started < 1.0


def report_values(**values):
    return {"challenge": "Kinder mit schlechtem Sprachtest bekommen keine Sprachförderung.",
            "legal_domains": ["sgb8", "school"], "frequency": NeedReport.Frequency.OFTEN, **values}


def test_a_report_naming_a_participant_is_refused_and_nothing_is_sent(world, zarifa):
    with scope(district=world.district.pk):
        with pytest.raises(ValidationError) as refused:
            services.send_need_report(world.insider, report_values(challenge="Frau Qasimova, geb. 04.03.1990"))
        message = " ".join(refused.value.message_dict["challenge"])
        assert "ein Name („Frau Qasimova“)" in message and "ein Geburtsdatum" in message
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
                        "district_admin": False, "state": False}
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
