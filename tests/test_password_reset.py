"""A forgotten password: a link by e-mail where mail is configured (Django's flow), audited,
lifting the lock; without mail the link is not offered at all."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from kim.core.models import AuditEntry, User

from .factories import PASSWORD

NEW = "ein-ganz-neues-passwort-26"


@pytest.fixture
def mail_configured(settings):
    settings.KIM_PASSWORD_RESET_BY_MAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_without_mail_the_reset_is_not_offered(client, world):
    page = client.get(reverse("login")).content.decode()
    assert reverse("password-reset") not in page and "wenden sich an die Leitung ihres Trägers" in page
    assert client.get(reverse("password-reset")).status_code == 404


def test_a_reset_link_sets_a_new_password_audited_and_unlocks(client, world, mail_configured):
    User.objects.filter(pk=world.steering.pk).update(email="lenkung@kreis-aue.invalid")
    for _ in range(5):
        client.post(reverse("login"), {"username": "steering", "password": "falsch"})
    assert reverse("password-reset") in client.get(reverse("login")).content.decode()
    response = client.post(reverse("password-reset"), {"email": "lenkung@kreis-aue.invalid"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lenkung@kreis-aue.invalid"] and "neues Passwort" in message.subject
    link = re.search(r"https?://[^/]+(/passwort-vergessen/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert User.objects.get(pk=world.steering.pk).check_password(NEW)
    with scopes_disabled():
        entry = AuditEntry.objects.filter(object_id=str(world.steering.pk), changes__has_key="password").get()
    assert entry.actor_id == world.steering.pk
    assert client.post(reverse("login"), {"username": "steering", "password": NEW}).status_code == 302
    client.logout()
    again = client.get(link, follow=True)
    assert again.context["validlink"] is False  # a link works once


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, world, mail_configured):
    response = client.post(reverse("password-reset"), {"email": "niemand@example.invalid"})
    assert response.status_code == 302 and mail.outbox == []


def test_a_wrong_address_format_is_shown_formally(client, world, mail_configured):
    response = client.post(reverse("password-reset"), {"email": "kein-at-zeichen"})
    page = response.content.decode()
    assert response.status_code == 200 and "E-Mail" in page and " Gib " not in page
    assert User.objects.get(pk=world.steering.pk).check_password(PASSWORD)
