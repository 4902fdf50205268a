"""The bilingual documents for participants (kim.privacy.documents): every document prints in
every language with its script, the German text and the participant's data, within the page;
the referral letter carries only the released categories; a consent records the language and
the versions of the texts signed; only the participant's own provider prints them."""

import os
import re
import shutil
import statistics
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled

from kim.casework import services
from kim.casework.models import Consent, PlanAction, Referral
from kim.core.audit_display import readable
from kim.core.models import AuditEntry, ReferralTarget, Role
from kim.privacy.documents import texts
from kim.privacy.documents.catalogues import translations
from kim.privacy.documents.registry import DOCUMENTS, LANGUAGES, german_texts, signed_versions, version
from kim.privacy.documents.render import Subject, document_pdf
from kim.privacy.release import CATEGORIES

from .factories import CaseFactory, ConsentFactory, GoalFactory, ParticipantFactory, ProviderFactory, UserFactory, make_district

# Every test here may need the database: pytest-django sets it up only for marked tests, and
# the module's rendering fixture must find it even when no other test of the run is marked.
pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
SCREENSHOTS = Path(os.environ.get("KIM_SCREENSHOT_DIR", "test-artifacts/screenshots"))

SCRIPTS = {  # a pattern of letters the language's column must show
    "ar": r"[\u0600-\u06FF]", "fa": r"[\u0600-\u06FF]", "uk": r"[\u0400-\u04FF]", "ru": r"[\u0400-\u04FF]",
    "ti": r"[\u1200-\u137F]", "tr": r"[şçğı]", "kmr": r"[êîûçş]", "fr": r"[éèàç]", "en": r"\b(the|your|Signature)\b",
}
PHONE = "0171 2345678"


def pdftotext(pdf: bytes, *options) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed; `make system-packages` installs it")
    return subprocess.run(["pdftotext", *options, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def boxes(pdf: bytes):
    """(pages: [(width, height)], words: [(page index, xMin, yMin, xMax, yMax)]) from pdftotext -bbox."""
    html = pdftotext(pdf, "-bbox")
    pages, words = [], []
    for number, page in enumerate(re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S)):
        pages.append((float(page[0]), float(page[1])))
        for box in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', page[2]):
            words.append((number, *map(float, box)))
    return pages, words


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def build_world():
    district = make_district("Kreis Aue")
    provider = ProviderFactory(district=district, name="Caritas Aue", slug="caritas")
    insider = UserFactory(username="insider", first_name="Jana", last_name="Berg", role=Role.CASE_MANAGER,
                          provider=provider, district=district)
    participant = ParticipantFactory(responsible=insider, first_name="Zarifa", last_name="Qasimova",
                                     phone=PHONE, address="Lindenweg 3, 40822 Aue", email="z.q@example.org")
    consent = ConsentFactory(participant=participant, released_categories=["identity", "case"])
    case = CaseFactory(participant=participant)
    goal = GoalFactory(case=case, text="Einen Sprachkurs B1 finden", due_on=TODAY() + timedelta(days=60))
    with scopes_disabled():
        targets = list(ReferralTarget.objects.filter(district=district, means_no_need=False)[:2])
        consent.released_to.set(targets)
        PlanAction.objects.create(case=case, goal=goal, description="Anmeldung bei der VHS", responsible="Frau Qasimova",
                                  due_on=TODAY() + timedelta(days=14))
        referral = Referral.objects.create(case=case, target=targets[0], referred_on=TODAY(), note="Beratung zur Anerkennung")
    return {"district": district, "insider": insider, "participant": participant, "consent": consent,
            "case": case, "referral": referral, "targets": targets}


def subject_of(world, kind):
    participant = world["participant"]
    if kind == "goals":
        return Subject(participant, case=world["case"])
    if kind == "referral":
        return Subject(participant, case=world["case"], referral=world["referral"])
    return Subject(participant, consent=world["consent"])


@pytest.fixture(scope="module")
def rendered(django_db_setup, django_db_blocker):
    """Every document in every language, printed once for the module (about 0.2 s each)."""
    results, timings = {}, {}
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        with scope(district=world["district"].pk):
            for kind in DOCUMENTS:
                for language in LANGUAGES:
                    started = time.perf_counter()
                    results[kind, language] = document_pdf(kind, language, subject_of(world, kind))
                    timings.setdefault(kind, []).append(time.perf_counter() - started)
        transaction.set_rollback(True)
    # Median per kind (the first print of a run also loads the fonts), and the first one apart.
    print("render seconds, median per kind:", {k: round(statistics.median(v), 3) for k, v in timings.items()},
          "first:", round(timings["consent"][0], 3), "all:", round(sum(map(sum, timings.values())), 2))
    return results


ALL = [(kind, language) for kind in DOCUMENTS for language in LANGUAGES]


@pytest.mark.parametrize("kind, language", ALL)
def test_every_document_prints_in_every_language_with_its_script(rendered, kind, language):
    text = pdftotext(rendered[kind, language], "-raw")
    assert re.search(SCRIPTS[language], text), f"no {language} script in {kind}"
    assert squeezed(DOCUMENTS[kind].blocks[-2][1])[:40] in squeezed(text)  # a German paragraph
    assert "Qasimova" in text and "Caritas Aue" in text
    assert version(kind, language) in text


@pytest.mark.parametrize("kind, language", ALL)
def test_nothing_runs_off_the_page(rendered, kind, language):
    pages, words = boxes(rendered[kind, language])
    assert 1 <= len(pages) <= 2
    assert words
    for page, x_min, y_min, x_max, y_max in words:
        width, height = pages[page]
        assert 0 <= x_min and x_max <= width and 0 <= y_min and y_max <= height


def test_right_to_left_languages_are_set_right_to_left(rendered):
    """In an RTL column the text ends at the right edge: its words lie right of the middle
    and the right-most ones reach the column's right margin."""
    for language in ("ar", "fa"):
        pages, words = boxes(rendered["information", language])
        width = pages[0][0]
        right_column = [w for w in words if w[1] > width / 2]
        assert max(w[3] for w in right_column) > width - 60


def test_pages_are_drawn_for_a_look(rendered):
    """One PNG per language (the consent) for review by eye: RTL, no missing glyphs, columns."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is needed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shown = [("consent", language) for language in LANGUAGES] + [
        ("information", "uk"), ("goals", "fa"), ("referral", "ar"), ("referral", "ti")]
    for kind, language in shown:
        target = SCREENSHOTS / f"document-{kind}-{language}"
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", "-",
                        str(target)], input=rendered[kind, language], check=True)
        assert target.with_suffix(".png").stat().st_size > 10_000
        target.with_suffix(".pdf").write_bytes(rendered[kind, language])


FONTS = {"ar": "Noto-Sans-Arabic", "fa": "Noto-Sans-Arabic", "ti": "Noto-Sans-Ethiopic"}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_each_script_is_set_in_a_font_that_has_its_letters(rendered, language):
    """No missing glyphs (tofu): the script's own Noto font is embedded, and no other text
    fell back to a font that draws boxes (fontconfig picks a font holding the glyphs, so a
    font without them would not be chosen)."""
    fonts = subprocess.run(["pdffonts", "-"], input=rendered["information", language], capture_output=True,
                           check=True).stdout.decode()
    assert "+Noto-Sans " in fonts  # the Latin of the German column
    if language in FONTS:
        assert FONTS[language] in fonts
    assert "LastResort" not in fonts


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_text_is_translated_in_every_catalogue(language):
    catalogue = translations(language)
    missing = [german for kind in DOCUMENTS for german in german_texts(kind) if german not in catalogue]
    assert not missing, f"{language}: untranslated {missing[:3]}"


def test_every_category_has_a_document_text():
    assert set(texts.CATEGORY_TEXTS) == set(CATEGORIES)


def test_a_changed_translation_is_a_new_version(monkeypatch):
    before = version("consent", "ar")
    changed = dict(translations("ar"))
    changed[texts.LABELS["place_date"]] += "."
    monkeypatch.setattr("kim.privacy.documents.registry.translate", lambda lang, german: changed.get(german, german))
    assert version("consent", "ar") != before
    assert version("information", "ar") != before


# ---------------------------------------------------------------- the referral letter

def referral_text(world, categories):
    consent = world["consent"]
    consent.released_categories = categories
    consent.save()
    pdf = document_pdf("referral", "en", Subject(world["participant"], case=world["case"], referral=world["referral"]))
    return pdftotext(pdf, "-raw")


def test_the_referral_letter_carries_only_released_categories():
    world = build_world()
    with scope(district=world["district"].pk):
        text = referral_text(world, ["identity", "case"])
        assert "Qasimova" in text and "Sprachkurs" in text
        assert PHONE not in text and "Lindenweg" not in text and "z.q@example.org" not in text
        assert PHONE in referral_text(world, ["contact"])
        bare = referral_text(world, [])
        assert "Qasimova" not in bare and "Es wurden keine Daten freigegeben." in bare


def test_the_referral_letter_ignores_a_release_withdrawn_since_the_referral():
    world = build_world()
    with scope(district=world["district"].pk):
        Referral.objects.filter(pk=world["referral"].pk).update(referred_on=TODAY() - timedelta(days=10))
        world["referral"].refresh_from_db()
        world["consent"].withdrawn_on = TODAY() - timedelta(days=1)
        world["consent"].save()
        text = referral_text(world, ["identity", "contact"])
        assert PHONE not in text and "Qasimova" not in text


# ---------------------------------------------------------------- the consent records the texts

def test_a_consent_records_the_language_and_versions_signed():
    world = build_world()
    with scope(district=world["district"].pk):
        consent = services.add_consent(world["insider"], world["participant"], {
            "given_on": TODAY(), "covers_processing": True, "document_language": "ti"})
        assert consent.document_language == "ti"
        assert consent.document_versions == signed_versions("ti") == {
            "consent": version("consent", "ti"), "information": version("information", "ti")}
        with translation.override("de"):
            [created] = readable(AuditEntry.objects.filter(action="create", object_type="casework.consent",
                                                           object_id=str(consent.pk)), world["insider"])
        shown = {change.label: change.after for change in created.changes}
        assert shown["Fassungen der unterschriebenen Texte"] == (
            f"consent: {version('consent', 'ti')}; information: {version('information', 'ti')}")
        german_only = services.add_consent(world["insider"], world["participant"], {"given_on": TODAY()})
        assert german_only.document_language == "" and german_only.document_versions == {}
        with pytest.raises(ValidationError):
            services.add_consent(world["insider"], world["participant"], {"given_on": TODAY(), "document_language": "xx"})


def test_the_consent_form_asks_for_the_language_signed(client):
    world = build_world()
    client.force_login(world["insider"])
    url = reverse("casework:consent-new", args=[world["participant"].pk])
    response = client.post(url, {"given_on": TODAY().isoformat(), "covers_processing": "on",
                                 "released_categories": ["identity"], "document_language": "fa",
                                 "released_to": [world["targets"][0].pk]})
    assert response.status_code == 302
    with scope(district=world["district"].pk):
        consent = Consent.objects.visible_to(world["insider"]).order_by("-pk").first()
    assert consent.document_language == "fa" and consent.released_categories == ["identity"]
    assert consent.document_versions["consent"] == version("consent", "fa")
    page = client.get(reverse("casework:participant", args=[world["participant"].pk])).content.decode()
    assert "unterschriebene Fassung: de/fa" in page


# ---------------------------------------------------------------- the pages

def download_url(participant, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("documents:participant", args=[participant.pk]) + ("?" + query if query else "")


def test_the_case_manager_downloads_a_document_and_the_read_is_audited(client):
    world = build_world()
    client.force_login(world["insider"])
    response = client.get(download_url(world["participant"], document="consent", language="uk"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Qasimova" in pdftotext(response.content, "-raw")
    with scopes_disabled():
        read = AuditEntry.objects.filter(action="read", object_type="casework.participant").latest("pk")
    assert read.changes == {"document": [None, "consent de/uk"]}


def test_goal_agreement_and_referral_letter_are_chosen_by_case_and_referral(client):
    world = build_world()
    client.force_login(world["insider"])
    page = client.get(download_url(world["participant"])).content.decode()
    assert f"goals-{world['case'].pk}" in page and f"referral-{world['referral'].pk}" in page
    goals = client.get(download_url(world["participant"], document=f"goals-{world['case'].pk}", language="tr"))
    assert "Anmeldung bei der VHS" in pdftotext(goals.content, "-raw")
    letter = client.get(download_url(world["participant"], document=f"referral-{world['referral'].pk}", language="ar"))
    assert letter.status_code == 200 and PHONE not in pdftotext(letter.content, "-raw")


@pytest.mark.parametrize("params, message", [
    ({"document": "consent", "language": ""}, "Bitte wählen Sie die Sprache der teilnehmenden Person."),
    ({"document": "", "language": "ar"}, "Bitte wählen Sie ein Dokument."),
    ({"document": "consent", "language": "xx"}, "Die Dokumente gibt es in dieser Sprache nicht."),
    ({"document": "goals-999999", "language": "ar"}, "Dieses Dokument kann für diese Person nicht gedruckt werden."),
    ({"document": "nonsense", "language": "ar"}, "Dieses Dokument kann für diese Person nicht gedruckt werden."),
])
def test_a_bad_choice_shows_a_german_message(client, params, message):
    world = build_world()
    client.force_login(world["insider"])
    response = client.get(download_url(world["participant"], **params))
    assert response.status_code == 422
    assert message in response.content.decode()


def test_another_provider_gets_not_found_and_coordination_is_refused(client):
    world = build_world()
    other = UserFactory(username="other", role=Role.CASE_MANAGER, district=world["district"],
                        provider=ProviderFactory(district=world["district"], name="Diakonie Aue", slug="diakonie"))
    other_district = make_district("Kreis Berg")
    foreign = UserFactory(username="foreign", role=Role.CASE_MANAGER, district=other_district,
                          provider=ProviderFactory(district=other_district, name="AWO Berg", slug="awo"))
    coordination = UserFactory(username="coordination", role=Role.COORDINATION, district=world["district"])
    url = download_url(world["participant"], document="consent", language="ar")
    for outsider in (other, foreign):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    # Coordination may open no page of personal data at all: refused before any lookup.
    client.force_login(coordination)
    assert client.get(url).status_code == 403
    with scopes_disabled():
        assert not AuditEntry.objects.filter(actor__in=[other, foreign, coordination], action="read").exists()


def test_a_colleague_cannot_print_the_letter_of_a_referral_of_another_participant(client):
    world = build_world()
    second = ParticipantFactory(responsible=world["insider"], first_name="Omid", last_name="Rahimi")
    ConsentFactory(participant=second)
    client.force_login(world["insider"])
    response = client.get(download_url(second, document=f"referral-{world['referral'].pk}", language="fa"))
    assert response.status_code == 422


def test_the_case_page_links_each_referral_to_its_letter(client):
    world = build_world()
    client.force_login(world["insider"])
    case_page = client.get(reverse("casework:case", args=[world["case"].pk])).content.decode()
    link = download_url(world["participant"], document=f"referral-{world['referral'].pk}")
    assert link in case_page
    chooser = client.get(link)
    assert chooser.status_code == 200  # only preselected: nothing refused yet
    assert f'<option value="referral-{world["referral"].pk}" selected>' in chooser.content.decode()


def test_no_referral_letter_while_processing_is_restricted(client):
    world = build_world()
    with scopes_disabled():
        type(world["participant"]).objects.filter(pk=world["participant"].pk).update(restricted_on=TODAY())
    client.force_login(world["insider"])
    response = client.get(download_url(world["participant"], document=f"referral-{world['referral'].pk}", language="ar"))
    assert response.status_code == 422
    assert "Die Verarbeitung der Daten dieser Person ist eingeschränkt" in response.content.decode()
    assert client.get(download_url(world["participant"], document="information", language="ar")).status_code == 200


def test_without_a_consent_the_form_lists_every_partner_to_tick_by_hand(client):
    world = build_world()
    with scopes_disabled():
        Consent.objects.filter(participant=world["participant"]).delete()
        partners = list(ReferralTarget.objects.filter(district=world["district"], active=True, means_no_need=False))
    client.force_login(world["insider"])
    response = client.get(download_url(world["participant"], document="consent", language="ar"))
    text = pdftotext(response.content, "-raw")
    assert partners and all(squeezed(str(partner)) in squeezed(text)
                            for partner in partners)
    pages, words = boxes(response.content)
    assert len(pages) <= 2
    assert all(x_max <= pages[page][0] and y_max <= pages[page][1] for page, _x, _y, x_max, y_max in words)


def test_the_api_records_released_categories_and_the_language_signed():
    from .test_api import Api

    world = build_world()
    api = Api(world["insider"])
    body = {"participant": world["participant"].pk, "given_on": TODAY().isoformat(), "covers_processing": True,
            "released_categories": ["identity", "contact"], "document_language": "uk",
            "released_to": [world["targets"][0].pk]}
    response = api.post("consents/", body)
    assert response.status_code == 201, response.json()
    with scopes_disabled():
        consent = Consent.objects.get(pk=response.json()["id"])
    assert consent.released_categories == ["identity", "contact"]
    assert consent.document_versions == signed_versions("uk")
    assert response.json()["document_versions"] == signed_versions("uk")
    refused = api.post("consents/", {**body, "document_language": "xx"})
    assert refused.status_code == 400 and "document_language" in refused.json()


def test_the_information_names_the_districts_own_retention_period(world):
    from kim.privacy.documents.render import Subject, document_html
    from kim.privacy.models import RetentionPeriod

    with scopes_disabled():
        RetentionPeriod.objects.create(district=world.district, deletion_class="case_data", period=48)
        html = document_html("information", "en", Subject(participant=world.participant))
    assert "Bis zum Ablauf von 48 Monaten" in html and "Until 48 months after" in html
    assert "{months}" not in html


def test_released_data_without_a_partner_are_refused_on_the_form(world):
    """Attack A24a: categories were stored as released towards nobody."""
    from kim.casework.forms import ConsentForm

    with scope(district=world.district.pk):
        form = ConsentForm({"given_on": "2026-12-01", "covers_processing": "on", "released_categories": ["identity"]})
        assert not form.is_valid()
    assert "Schweigepflicht entbindet" in " ".join(form.errors["released_to"])
