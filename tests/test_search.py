"""Search finds a participant by the name as displayed, in any order, without diacritics, in
any case, and by a part of the participant code, on SQLite and PostgreSQL alike (run this
module with DATABASE_URL set for the PostgreSQL leg)."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from kim.casework.models import Participant
from kim.casework.search import fold, participant_search_text
from kim.casework.services import find_possible_duplicates

from .factories import CaseFactory, ParticipantFactory


@pytest.fixture
def people(world):
    names = [("Amira", "Nasser"), ("Emre", "Şahin"), ("Jadwiga", "Łukasiewicz"), ("Jürgen", "Müller"),
             ("Đorđe", "Đorđević"), ("Nour", "Al-Hassan"), ("Олена", "Коваленко")]
    made = {}
    for first, last in names:
        person = ParticipantFactory(responsible=world.insider, first_name=first, last_name=last)
        CaseFactory(participant=person)
        made[last] = person
    return made


def found_on_the_list(client, world, query):
    client.force_login(world.insider)
    page = client.get(reverse("casework:participants"), {"q": query}).context["page"]
    return {p.last_name for p in page.object_list}


def found_in_my_cases(client, world, query):
    client.force_login(world.insider)
    page = client.get(reverse("casework:my-cases"), {"q": query, "status": "all"}).context["page"]
    return {c.participant.last_name for c in page.object_list}


@pytest.mark.parametrize("search", [found_on_the_list, found_in_my_cases])
@pytest.mark.parametrize("query, expected", [
    ("Amira Nasser", "Nasser"),
    ("Nasser, Amira", "Nasser"),
    ("nasser amira", "Nasser"),
    ("NASSER", "Nasser"),
    ("Sahin", "Şahin"),
    ("sahin emre", "Şahin"),
    ("Şahin", "Şahin"),
    ("Lukasiewicz", "Łukasiewicz"),
    ("lukasiewicz, jadwiga", "Łukasiewicz"),
    ("Mueller", "Müller"),
    ("Muller Jurgen", "Müller"),
    ("Dordevic", "Đorđević"),
    ("Alhassan", "Al-Hassan"),
    ("al hassan nour", "Al-Hassan"),
    ("Kovalenko", "Коваленко"),
])
def test_a_participant_is_found_by_the_name_as_a_person_types_it(client, world, people, search, query, expected):
    assert search(client, world, query) == {expected}


@pytest.mark.parametrize("search", [found_on_the_list, found_in_my_cases])
def test_a_participant_is_found_by_a_part_of_the_code(client, world, people, search):
    code = people["Nasser"].code  # e.g. TN-AB3DE4FG
    for query in (code, code.lower(), code[:6], code[3:8], code[3:].lower()):
        assert search(client, world, query) == {"Nasser"}, query


def test_words_must_all_match(client, world, people):
    assert found_on_the_list(client, world, "Amira Şahin") == set()


def test_the_search_stays_within_what_the_user_may_see(client, world, people):
    ParticipantFactory(responsible=world.colleague, first_name="Amira", last_name="Nasser")
    client.force_login(world.insider)
    page = client.get(reverse("casework:participants"), {"q": "Amira Nasser"}).context["page"]
    assert [p.responsible_id for p in page.object_list] == [world.insider.pk]


def test_the_search_text_follows_every_change_of_the_name(world, people):
    person = people["Nasser"]
    with scopes_disabled():
        person.last_name = "Özdemir"
        person.save(update_fields=["last_name"])  # as the import saves a changed row
        assert "ozdemir" in Participant.objects.get(pk=person.pk).search_text
        person.first_name = "Ayşe"
        Participant.objects.bulk_update([person], ["first_name"])  # as the demo writes households
        assert " ayse " in Participant.objects.get(pk=person.pk).search_text
        Participant.objects.bulk_create([Participant(
            district=person.district, provider=person.provider, responsible=person.responsible, code="TN-BULK2345",
            first_name="Zoë", last_name="Brontë", birth_date=person.birth_date, municipality=person.municipality)])
        assert " zo " in Participant.objects.get(code="TN-BULK2345").search_text


def test_the_migration_fills_the_search_text_of_existing_participants(world, people):
    migration = importlib.import_module("kim.casework.migrations.0005_participant_search_text")
    with scopes_disabled():
        Participant.objects.update(search_text="")  # as every row was before the migration
        migration.fill_search_text(apps, None)
        person = Participant.objects.get(pk=people["Łukasiewicz"].pk)
    assert person.search_text == participant_search_text("Jadwiga", "Łukasiewicz", person.code)
    assert " lukasiewicz " in person.search_text


def test_folding_handles_letters_that_unicode_does_not_decompose():
    assert fold("Łukasiewicz") == "lukasiewicz"  # NFKD leaves Ł alone
    assert fold("Şahin") == "sahin"
    assert fold("Straße") == "strasse"
    assert fold("Ødegård") == "odegard"
    assert fold("Müller") == fold("Mueller") == fold("Muller")


def test_a_duplicate_is_recognised_without_diacritics(world):
    with scope(district=world.district.pk):
        person = ParticipantFactory(responsible=world.insider, first_name="Emre", last_name="Şahin")
        assert find_possible_duplicates(world.insider, "emre", "Sahin", person.birth_date) == 1
        assert find_possible_duplicates(world.insider, "Emre", "Sahinoglu", person.birth_date) == 0


def test_the_list_sorts_names_with_diacritics_among_their_letters(client, world, people):
    """Bytewise, Łukasiewicz, Şahin and Đorđević came after Z (walkthrough)."""
    ParticipantFactory(responsible=world.insider, first_name="Anna", last_name="Zimmermann")
    client.force_login(world.insider)
    listed = [p.last_name for p in client.get(reverse("casework:participants")).context["page"]]
    assert listed == ["Al-Hassan", "Đorđević", "Коваленко", "Łukasiewicz", "Müller", "Nasser", "Qasimova", "Şahin",
                      "Zimmermann"]


def test_the_migration_fills_the_sort_name_of_existing_participants(world, people):
    migration = importlib.import_module("kim.casework.migrations.0008_participant_sort_name")
    with scopes_disabled():
        Participant.objects.update(sort_name="")
        migration.fill_sort_names(apps, None)
        assert Participant.objects.get(pk=people["Şahin"].pk).sort_name == "sahin emre"
