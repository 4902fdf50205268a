"""The interface speaks formal German ("Sie") everywhere, including the messages that come from
the libraries: their German catalogues sometimes say "du", and the first one found wins."""

import re
from pathlib import Path

import django
import pytest
from babel.messages.mofile import read_mo
from django.apps import apps
from django.utils import translation

INFORMAL = re.compile(r"\b(du|dich|dir|dein\w*|Gib|gib|Wähle|Prüfe|Versuche|versuche|Stelle|Lade|Korrigiere|"
                      r"Ändere|kannst|hast|bist|musst|Hast|Möchtest|Nutze|Benutze|Erwarte|Sende|Gebe|Wähl|Achte)\b")


def library_catalogues():
    folders = [Path(django.__file__).parent / "conf" / "locale"]
    folders += [Path(app.path) / "locale" for app in apps.get_app_configs() if not app.name.startswith("kim.")]
    return [mo for folder in folders for mo in folder.glob("de/LC_MESSAGES/django.mo")]


def informal_library_messages():
    messages = []
    for mo in library_catalogues():
        with open(mo, "rb") as handle:
            for message in read_mo(handle):
                texts = message.string if isinstance(message.string, (list, tuple)) else [message.string]
                if message.id and any(INFORMAL.search(text or "") for text in texts):
                    messages.append(message.id)
    return messages


def test_the_libraries_do_say_du_somewhere():
    """Guards the test below: if no library said "du" any more, it would check nothing."""
    assert "Enter a valid email address." in informal_library_messages()


@pytest.mark.parametrize("message_id", informal_library_messages(), ids=lambda m: str(m)[:50])
def test_every_library_message_reaches_the_user_formally(message_id):
    with translation.override("de"):
        if isinstance(message_id, (list, tuple)):
            texts = [translation.ngettext(message_id[0], message_id[1], n) for n in (1, 2)]
        else:
            texts = [translation.gettext(message_id)]
    for text in texts:
        assert not INFORMAL.search(text), text


def test_every_message_of_the_application_has_a_german_translation(tmp_path):
    """makemessages over a copy of the sources: no msgid without German text, none fuzzy, no
    entry twice (a translation appended by hand must not shadow or duplicate another)."""
    import os
    import shutil
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: `make test` installs Debian's gettext (tools/system_packages.sh)")
    source = Path(__file__).resolve().parents[1] / "src" / "kim"
    copy = tmp_path / "kim"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "kim.settings"}
    result = subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "de", "--no-obsolete", "-v0"],
                            cwd=copy, env=environment, capture_output=True, text=True)
    assert result.returncode == 0 and "duplicate" not in result.stderr, result.stderr
    with open(copy / "locale" / "de" / "LC_MESSAGES" / "django.po", "rb") as handle:
        catalogue = read_po(handle)
    untranslated = [
        message.id for message in catalogue
        if message.id and (message.fuzzy or not all(message.string if isinstance(message.string, tuple)
                                                    else [message.string]))
    ]
    assert untranslated == []
