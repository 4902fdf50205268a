"""Deadlines (Stichtage): set for a year that has ended and a day ahead, listed with their
history, corrected and withdrawn by the coordination; a lead's note on the confirmation is
shown to the coordination and the lead and can be corrected. Every change audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from kim.core.models import AuditEntry, Role
from kim.reports.models import DataConfirmation, ReportingDeadline

from .factories import UserFactory

TODAY = timezone.localdate()
AHEAD = TODAY + timedelta(days=30)
LAST_YEAR = TODAY.year - 1


def set_deadline(client, world, title="Lenkungsgruppe", due_on=AHEAD, year=LAST_YEAR):
    client.force_login(world.coordination)
    return client.post(reverse("reports:deadline-new"), {"title": title, "due_on": due_on.isoformat(), "year": year},
                       HTTP_ACCEPT_LANGUAGE="de")


def deadlines():
    with scopes_disabled():
        return list(ReportingDeadline.objects.order_by("pk"))


def confirm(client, lead, deadline, note=""):
    client.force_login(lead)
    return client.post(reverse("reports:confirm", args=[deadline.pk]), {"note": note}, HTTP_ACCEPT_LANGUAGE="de")


@pytest.mark.parametrize("due_on, year, message", [
    (TODAY - timedelta(days=1), LAST_YEAR, "in der Vergangenheit"),
    (AHEAD, TODAY.year, "abgeschlossen"),
    (AHEAD, TODAY.year + 1, "abgeschlossen"),
    (TODAY.replace(year=TODAY.year + 5), LAST_YEAR, "mehr als zwei Jahre"),
])
def test_a_deadline_in_the_past_or_for_a_year_not_ended_is_refused(client, world, due_on, year, message):
    response = set_deadline(client, world, due_on=due_on, year=year)
    assert response.status_code == 422
    content = response.content.decode()
    assert message in content and 'role="alert"' in content
    assert 'value="Lenkungsgruppe"' in content  # the input is kept
    assert deadlines() == []


def test_a_new_deadline_takes_over_and_the_earlier_keeps_its_confirmations(client, world):
    assert set_deadline(client, world, "Lenkungsgruppe Frühjahr", AHEAD).status_code == 302
    first = deadlines()[0]
    assert confirm(client, world.lead, first, "alles nachgetragen").status_code == 302

    client.force_login(world.coordination)
    form = client.get(reverse("reports:deadline-new")).content.decode()
    assert "Lenkungsgruppe Frühjahr" in form and "bestätigt von 1 Träger" in form  # not silent
    earlier = set_deadline(client, world, "Lenkungsgruppe früher", AHEAD - timedelta(days=1))
    assert earlier.status_code == 422 and "Lenkungsgruppe Frühjahr" in earlier.content.decode()
    assert set_deadline(client, world, "Lenkungsgruppe Herbst", AHEAD + timedelta(days=90)).status_code == 302

    page = client.get(reverse("reports:completeness")).content.decode()
    assert "Lenkungsgruppe Herbst" in page and "alles nachgetragen" not in page
    history = client.get(reverse("reports:deadlines")).content.decode()
    assert "Lenkungsgruppe Frühjahr" in history and "Lenkungsgruppe Herbst" in history
    detail = client.get(reverse("reports:deadline", args=[first.pk])).content.decode()
    assert "alles nachgetragen" in detail and world.provider.name in detail
    with scopes_disabled():
        assert DataConfirmation.objects.filter(deadline=first).count() == 1


def test_the_coordination_corrects_and_withdraws_the_current_deadline(client, world):
    set_deadline(client, world, "Lenkungsgruppe")
    deadline = deadlines()[0]
    edit = reverse("reports:deadline-edit", args=[deadline.pk])
    later = AHEAD + timedelta(days=7)
    response = client.post(edit, {"title": "Lenkungsgruppe 2", "due_on": later.isoformat(), "year": LAST_YEAR - 1})
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert (deadline.title, deadline.due_on, deadline.year) == ("Lenkungsgruppe 2", later, LAST_YEAR - 1)

    confirm(client, world.lead, deadline)
    client.force_login(world.coordination)
    response = client.post(edit, {"title": "Lenkungsgruppe 2", "due_on": later.isoformat(), "year": LAST_YEAR},
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "kann nicht mehr geändert werden" in response.content.decode()

    withdraw = reverse("reports:deadline-withdraw", args=[deadline.pk])
    assert "Widerrufen" in client.get(withdraw).content.decode()  # asks first
    assert client.post(withdraw).status_code == 302
    deadline.refresh_from_db()
    assert deadline.withdrawn_at is not None
    assert "Derzeit gilt kein Stichtag" in client.get(reverse("reports:completeness")).content.decode()
    assert "widerrufen am" in client.get(reverse("reports:deadlines")).content.decode()
    with scopes_disabled():
        changes = [e.changes for e in AuditEntry.objects.filter(object_type="reports.reportingdeadline",
                                                                 action=AuditEntry.Action.UPDATE).order_by("pk")]
        assert DataConfirmation.objects.filter(deadline=deadline).count() == 1  # kept
    assert changes[0]["title"] == ["Lenkungsgruppe", "Lenkungsgruppe 2"] and "withdrawn_at" in changes[-1]
    client.force_login(world.steering)
    assert client.post(withdraw).status_code == 403
    assert client.get(reverse("reports:deadlines")).status_code == 200


def test_the_leads_note_is_read_by_coordination_and_the_lead_and_corrected_by_the_lead(client, world):
    set_deadline(client, world)
    deadline = deadlines()[0]
    confirm(client, world.lead, deadline, "Fälle von Frau K. fehlen noch")
    with scopes_disabled():
        confirmation = DataConfirmation.objects.get()
    for reader, sees in ((world.coordination, True), (world.lead, True), (world.steering, False)):
        client.force_login(reader)
        assert ("Fälle von Frau K. fehlen noch" in client.get(reverse("reports:completeness")).content.decode()) is sees

    client.force_login(world.lead)
    note_url = reverse("reports:confirmation-note", args=[confirmation.pk])
    assert client.post(note_url, {"note": "vollständig"}).status_code == 302
    confirmation.refresh_from_db()
    assert confirmation.note == "vollständig"
    with scopes_disabled():
        entry = AuditEntry.objects.filter(object_type="reports.dataconfirmation", action=AuditEntry.Action.UPDATE).get()
    assert entry.changes["note"] == ["Fälle von Frau K. fehlen noch", "vollständig"]

    response = client.post(note_url, {"note": "x" * 301}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422 and "höchstens 300 Zeichen" in response.content.decode()
    confirmation.refresh_from_db()
    assert confirmation.note == "vollständig"

    other_lead = UserFactory(district=world.district, provider=world.other_provider, role=Role.PROVIDER_LEAD)
    client.force_login(other_lead)
    assert client.post(note_url, {"note": "fremd"}).status_code == 404


def test_a_note_too_long_for_the_confirmation_is_refused_and_kept(client, world):
    set_deadline(client, world)
    response = confirm(client, world.lead, deadlines()[0], "y" * 301)
    assert response.status_code == 422
    content = response.content.decode()
    assert "höchstens 300 Zeichen" in content and "y" * 301 in content
    with scopes_disabled():
        assert not DataConfirmation.objects.exists()
