"""The translations of the document texts: one gettext catalogue per language,
locale/<language>/LC_MESSAGES/documents.po, with the German text as msgid. Read with Babel
straight from the .po file (reviewed as text, nothing compiled); Django's active language
stays German."""

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "documents.po"


@cache
def translations(language: str) -> dict[str, str]:
    """{German text: translation} of the language's catalogue, fuzzy entries left out (a
    fuzzy entry is a draft nobody confirmed)."""
    with catalogue_path(language).open("rb") as po_file:
        catalogue = read_po(po_file)
    return {message.id: message.string for message in catalogue
            if message.id and message.string and not message.fuzzy}


def translate(language: str, german: str) -> str:
    """The text in `language`; the German one where a translation is missing (the test of the
    catalogues keeps that from happening in a release)."""
    return translations(language).get(german) or german
