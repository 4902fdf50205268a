"""A transfer in a real browser: the case manager of Caritas hands a case over to Diakonie
(the participant released her towards it for name and the case's course), confirms what goes
and what stays, and the Diakonie case manager logs in and finds the case in "Meine Fälle",
without the phone number that was not released. A case without a release shows why it cannot
be handed over, and a release withdrawn before the confirmation is refused on the form.
axe-core on every page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from kim.casework.models import Case
from kim.core.models import ReferralTarget, Role

from ..factories import (
    CaseFactory,
    ConsentFactory,
    GoalFactory,
    ParticipantFactory,
    ProviderFactory,
    UserFactory,
    make_district,
)
from .test_case_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cases():
    district = make_district("Kreis Aue")
    caritas = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    diakonie = ProviderFactory(district=district, name="Diakonie Aue", slug="diakonie")
    sender = UserFactory(username="cm-caritas", first_name="Anna", last_name="Becker", role=Role.CASE_MANAGER,
                         district=district, provider=caritas)
    UserFactory(username="cm-diakonie", first_name="Jonas", last_name="Weber", role=Role.CASE_MANAGER,
                district=district, provider=diakonie)
    with scopes_disabled():
        target = ReferralTarget.objects.create(district=district, label="Diakonie Aue (KIM)", provider=diakonie)
    released = ParticipantFactory(responsible=sender, first_name="Zarifa", last_name="Qasimova", phone="0171 5550123")
    consent = ConsentFactory(participant=released)
    with scopes_disabled():
        consent.released_to.add(target)
        consent.released_categories = ["identity", "case"]
        consent.save()
    case = CaseFactory(participant=released)
    GoalFactory(case=case, text="Sprachkurs B1 finden")
    unreleased = ParticipantFactory(responsible=sender, first_name="Omid", last_name="Karimi")
    ConsentFactory(participant=unreleased)
    return {"released": case, "unreleased": CaseFactory(participant=unreleased)}


def test_a_case_manager_transfers_a_case_and_the_receiver_finds_it(page, auditor, cases):
    today = timezone.localdate()
    log_in(page, "cm-caritas")
    page.goto(f"/fallarbeit/fall/{cases['unreleased'].pk}/")
    page.get_by_role("link", name="Fall übergeben").click()
    expect(page.locator("#no-release")).to_contain_text("Keine Schweigepflichtentbindung gegenüber einem anderen Träger")
    auditor.visit("transfer-no-release")

    page.goto(f"/fallarbeit/fall/{cases['released'].pk}/")
    auditor.visit("transfer-case-before")
    page.get_by_role("link", name="Fall übergeben").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("übergeben")
    auditor.visit("transfer-form")
    page.get_by_label("Übernehmender Träger").select_option(label="Diakonie Aue")
    page.get_by_label("Übernehmende*r Case Manager*in").select_option(label="Jonas Weber (Diakonie Aue, Case Manager*in)")
    page.get_by_label("Datum der Übergabe").fill((today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.locator("#form-errors")).to_contain_text("nicht in der Zukunft")  # 422, where the user looks
    expect(page.get_by_label("Übernehmender Träger").locator("option:checked")).to_have_text("Diakonie Aue")  # kept
    auditor.visit("transfer-form-refused")
    page.get_by_label("Datum der Übergabe").fill(today.isoformat())
    page.get_by_label("Hinweis an den übernehmenden Träger").fill("Termin beim Jobcenter am Montag")
    page.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.locator("main")).to_contain_text("Bitte bestätigen Sie")
    expect(page.locator("main")).to_contain_text("Adresse, Telefon und E-Mail")  # not handed over
    auditor.visit("transfer-confirm")
    page.get_by_role("button", name="Fall jetzt übergeben").click()
    expect(page.locator("main")).to_contain_text("an Diakonie Aue übergeben und hier abgeschlossen")
    expect(page.locator("main")).to_contain_text("Übergabe an anderen Träger")
    auditor.visit("transfer-case-closed")
    page.get_by_role("button", name="Abmelden").click()

    log_in(page, "cm-diakonie")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Fälle")
    with scopes_disabled():
        new_case = Case.objects.exclude(pk__in=[c.pk for c in cases.values()]).get()
    expect(page.locator("main table")).to_contain_text("Qasimova, Zarifa")
    auditor.visit("transfer-received-my-cases")
    page.get_by_role("link", name=new_case.number).click()
    expect(page.locator("#transfer-in")).to_contain_text("Übernommen von Caritas Aue")
    expect(page.locator("#transfer-in")).to_contain_text("Termin beim Jobcenter am Montag")
    expect(page.locator("main")).to_contain_text("Sprachkurs B1 finden")
    assert page.url.endswith(f"/fallarbeit/fall/{new_case.pk}/")
    auditor.visit("transfer-received-case")
    page.goto(f"/fallarbeit/teilnehmende/{new_case.participant_id}/")
    expect(page.locator("main")).not_to_contain_text("0171")  # contact data were not released
    auditor.visit("transfer-received-participant")
    assert page.goto(f"/fallarbeit/fall/{cases['released'].pk}/").status == 404


def test_a_release_withdrawn_before_the_confirmation_is_refused_on_the_page(page, auditor, cases):
    log_in(page, "cm-caritas")
    page.goto(f"/fallarbeit/fall/{cases['released'].pk}/verweis/")
    expect(page.get_by_label("Daten übergeben")).to_be_visible()  # the partner is a provider here
    auditor.visit("referral-with-handover-form")
    page.goto(f"/fallarbeit/fall/{cases['unreleased'].pk}/verweis/")
    expect(page.get_by_label("Daten übergeben")).to_have_count(0)  # no release towards a provider: no offer
    page.goto(f"/fallarbeit/fall/{cases['released'].pk}/uebergabe/")
    page.get_by_label("Übernehmender Träger").select_option(label="Diakonie Aue")
    page.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.get_by_role("button", name="Fall jetzt übergeben")).to_be_visible()
    with scopes_disabled():
        cases["released"].participant.consents.update(released_categories=[])
    page.get_by_role("button", name="Fall jetzt übergeben").click()
    # Nothing released any more: no receiver to offer, and the page says why where the form was.
    expect(page.locator("#no-release")).to_contain_text("Keine Schweigepflichtentbindung gegenüber einem anderen Träger")
    auditor.visit("transfer-refused-on-confirmation")
    with scopes_disabled():
        assert Case.objects.get(pk=cases["released"].pk).is_open
