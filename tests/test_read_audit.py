"""Every page and every API endpoint that shows personal data leaves exactly one read entry
per GET, through the one helper that decides what a read is (kim.casework.reads). The pages
and endpoints are taken from the URL configuration and the API router: a new one fails here
until it is classified."""

from datetime import timedelta

import pytest
from django.urls import URLPattern, reverse
from django_scopes import scope, scopes_disabled

from kim.api.urls import router
from kim.casework import services
from kim.casework.urls import urlpatterns as casework_urls
from kim.core.models import AuditEntry, LifeDomain

from .test_api import Api

# url name -> (the record the url names, the object type its read entry names)
RECORD_PAGES = {
    "participant": ("participant", "casework.participant"),
    "participant-edit": ("participant", "casework.participant"),
    "consent-new": ("participant", "casework.participant"),
    "case-new": ("participant", "casework.participant"),
    "consent-withdraw": ("consent", "casework.consent"),
    "household": ("household", "casework.household"),
    "case": ("case", "casework.case"),
    "case-edit": ("case", "casework.case"),
    "case-close": ("case", "casework.case"),
    "assessment-new": ("case", "casework.case"),
    "goal-new": ("case", "casework.case"),
    "action-new": ("case", "casework.case"),
    "referral-new": ("case", "casework.case"),
    "case-transfer": ("case", "casework.case"),
    "assessment": ("assessment", "casework.assessment"),
    "goal-status": ("goal", "casework.goal"),
    "appointment-edit": ("appointment", "casework.appointment"),
}
# url name -> the object type of the records its list shows
LIST_PAGES = {
    "my-cases": "casework.case",
    "participants": "casework.participant",
    "appointments": "casework.appointment",
    "participant-new": "casework.household",  # the households a new person may join
}
NO_PERSONAL_DATA = {
    "appointment-new": "other work without a case: no participant's data",
    "deputies": "deputyships name colleagues, not participants",
}
POST_ONLY = {"case-advance", "case-appointment-new", "action-done", "deputy-revoke"}


@pytest.fixture
def records(world):
    with scope(district=world.district.pk):
        household = services.create_household(world.insider, "Familie Qasimova", members=[world.participant])
        services.advance_phase(world.insider, world.case, "assessment")
        assessment = services.record_assessment(world.insider, world.case, world.case.opened_on + timedelta(days=1),
                                                "", [{"life_domain": LifeDomain.objects.first(), "need": 2}])
        action = services.add_plan_action(world.insider, world.case, {"description": "Antrag", "responsible": "TN"})
    with scopes_disabled():
        consent = world.participant.consents.get()
    return {"participant": world.participant, "case": world.case, "goal": world.goal, "consent": consent,
            "appointment": world.appointment, "household": household, "assessment": assessment, "action": action}


def reads():
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=AuditEntry.Action.READ).order_by("id"))


def test_every_page_of_case_work_is_classified():
    names = {pattern.name for pattern in casework_urls if isinstance(pattern, URLPattern)}
    assert names == set(RECORD_PAGES) | set(LIST_PAGES) | set(NO_PERSONAL_DATA) | POST_ONLY


@pytest.mark.parametrize("url_name", sorted(RECORD_PAGES))
def test_opening_a_page_of_a_record_writes_one_read_entry(client, world, records, url_name):
    attribute, object_type = RECORD_PAGES[url_name]
    record = records[attribute]
    client.force_login(world.insider)
    before = len(reads())
    assert client.get(reverse(f"casework:{url_name}", args=[record.pk])).status_code == 200
    new = reads()[before:]
    assert [(e.object_type, e.object_id, e.actor_id) for e in new] == [(object_type, str(record.pk), world.insider.pk)]
    assert new[0].provider_id == world.provider.pk


@pytest.mark.parametrize("url_name", sorted(LIST_PAGES))
def test_opening_a_list_writes_one_read_entry_naming_the_records_shown(client, world, records, url_name):
    client.force_login(world.insider)
    before = len(reads())
    assert client.get(reverse(f"casework:{url_name}")).status_code == 200
    new = reads()[before:]
    assert [(e.object_type, e.object_id) for e in new] == [(LIST_PAGES[url_name], "")]
    assert new[0].changes["listed"]  # e.g. the participant codes or case numbers shown


@pytest.mark.parametrize("url_name", sorted(NO_PERSONAL_DATA))
def test_pages_without_personal_data_write_no_read_entry(client, world, records, url_name):
    client.force_login(world.insider)
    before = len(reads())
    assert client.get(reverse(f"casework:{url_name}")).status_code == 200
    assert reads()[before:] == []


@pytest.mark.parametrize("url_name", sorted(POST_ONLY))
def test_actions_cannot_be_opened_with_get(client, world, records, url_name):
    pattern = next(p for p in casework_urls if p.name == url_name)
    args = [records["case"].pk] if "<int:pk>" in str(pattern.pattern) else []
    client.force_login(world.insider)
    assert client.get(reverse(f"casework:{url_name}", args=args)).status_code == 405


def test_a_form_shown_again_after_a_refused_post_is_a_read(client, world, records):
    """A POST need not follow a GET: the re-shown form shows the record as the GET does."""
    client.force_login(world.insider)
    before = len(reads())
    answer = client.post(reverse("casework:case-edit", args=[world.case.pk]), {"opened_on": "bogus"})
    assert answer.status_code == 422
    assert [(e.object_type, e.object_id) for e in reads()[before:]] == [("casework.case", str(world.case.pk))]


@pytest.mark.parametrize("method", ["options", "put", "patch", "delete", "head"])
@pytest.mark.parametrize("url_name", sorted(RECORD_PAGES) + sorted(LIST_PAGES))
def test_no_method_shows_a_record_without_a_read_entry(client, world, records, url_name, method):
    """Any answer that carries the page is a read; a page that only shows refuses the others."""
    args = [records[RECORD_PAGES[url_name][0]].pk] if url_name in RECORD_PAGES else []
    client.force_login(world.insider)
    before = len(reads())
    answer = getattr(client, method)(reverse(f"casework:{url_name}", args=args))
    if answer.status_code == 405:
        assert reads()[before:] == []
    else:
        assert answer.status_code in (200, 422), answer.status_code
        assert len(reads()[before:]) == 1


def test_the_case_page_shown_again_after_a_refused_appointment_is_a_read(client, world, records):
    client.force_login(world.insider)
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        before = len(reads())
        answer = client.post(reverse("casework:case-appointment-new", args=[world.case.pk]),
                             {"appt-date": "bogus"}, **htmx)
        assert answer.status_code == 422
        assert [(e.object_type, e.object_id) for e in reads()[before:]] == [("casework.case", str(world.case.pk))]


def test_an_anonymised_case_is_no_personal_data(client, world, records):
    with scopes_disabled():
        from kim.casework.models import Case

        Case.objects.filter(pk=world.case.pk).update(participant=None)
    client.force_login(world.insider)
    before = len(reads())
    client.get(reverse("casework:case", args=[world.case.pk]))
    assert reads()[before:] == []


API_RECORDS = {"participant": "participant", "consent": "consent", "case": "case", "goal": "goal",
               "appointment": "appointment"}


def test_every_api_endpoint_of_personal_data_is_classified():
    assert {basename for _prefix, _viewset, basename in router.registry} == set(API_RECORDS)


@pytest.mark.parametrize("prefix, basename", [(prefix, basename) for prefix, _v, basename in router.registry])
def test_every_api_read_writes_one_read_entry(world, records, prefix, basename):
    api = Api(world.insider)
    record = records[API_RECORDS[basename]]
    before = len(reads())
    assert api.get(f"{prefix}/").status_code == 200
    listed = reads()[before:]
    assert [(e.object_type, e.object_id) for e in listed] == [(f"casework.{basename}", "")]
    assert record.audit_label in listed[0].changes["listed"]
    assert api.get(f"{prefix}/{record.pk}/").status_code == 200
    opened = reads()[before + 1:]
    assert [(e.object_type, e.object_id, e.actor_id) for e in opened] == [
        (f"casework.{basename}", str(record.pk), world.insider.pk)]


@pytest.mark.parametrize("prefix, basename", [("participants", "participant"), ("cases", "case"),
                                              ("appointments", "appointment")])
def test_an_api_change_that_changes_nothing_is_still_a_read(world, records, prefix, basename):
    """The answer to an empty PATCH is the whole record."""
    record = records[basename]
    before = len(reads())
    answer = Api(world.insider).patch(f"{prefix}/{record.pk}/", {})
    assert answer.status_code == 200, answer.content
    assert [(e.object_type, e.object_id) for e in reads()[before:]] == [(f"casework.{basename}", str(record.pk))]


def test_an_empty_list_is_no_read(world, records):
    before = len(reads())
    assert Api(world.colleague).get("participants/").json()["count"] == 0
    assert reads()[before:] == []


def test_the_completeness_page_audits_the_cases_it_lists_to_their_case_manager(client, world):
    from .factories import CaseFactory

    with scopes_disabled():
        gap_case = CaseFactory(participant=world.participant, target_group=None)
    client.force_login(world.insider)
    page = client.get(reverse("reports:completeness"))
    assert gap_case.number in page.content.decode()
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="read", actor=world.insider).latest("id")
    assert gap_case.number in entry.changes["listed"]


@pytest.mark.parametrize("method", ["options", "put", "patch", "delete", "post", "trace"])
def test_the_subject_access_download_answers_only_get_and_head(client, world, method):
    client.force_login(world.insider)
    before = len(reads())
    answer = getattr(client, method)(reverse("exchange:subject-access", args=[world.participant.pk, "pdf"]))
    assert answer.status_code == 405 and reads()[before:] == []


def test_the_import_dry_run_listing_stored_names_is_a_read(client, world):
    """People whose name the file would change are listed with their stored name (attack)."""
    from kim.exchange.models import ImportMapping, ImportRun

    with scopes_disabled():
        mapping = ImportMapping.objects.create(district=world.district, provider=world.provider)
        run = ImportRun.objects.create(
            district=world.district, provider=world.provider, created_by=world.insider, mapping=mapping,
            case_manager=world.insider, filename="a.xlsx", format="xlsx", status=ImportRun.Status.CHECKED,
            identity_changes=[{"row": 2, "code": world.participant.code, "column": "Nachname",
                               "before": "Qasimova", "after": "Kasimova"},
                              # someone the reader no longer sees (a deputyship ended since the check)
                              {"row": 3, "code": "TN-ANDERE1", "column": "Nachname", "before": "Verborgen",
                               "after": "Neu"}])
    client.force_login(world.insider)
    before = len(reads())
    page = client.get(reverse("exchange:import-run", args=[run.pk])).content.decode()
    assert "Qasimova" in page and "Verborgen" not in page
    [entry] = reads()[before:]
    assert entry.object_type == "casework.participant" and entry.changes["listed"] == [world.participant.code]


def test_a_subject_access_in_an_unknown_format_reads_nothing(client, world):
    client.force_login(world.insider)
    before = len(reads())
    assert client.get(reverse("exchange:subject-access", args=[world.participant.pk, "xlsx"])).status_code == 404
    assert reads()[before:] == []
