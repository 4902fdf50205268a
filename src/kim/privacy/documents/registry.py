"""Which documents there are and in which languages they can be printed, and the version of
each text (a short hash of the German and the translated text: any change of either gives a
new version, recorded with the consent it was signed for)."""

import hashlib
from dataclasses import dataclass

from . import texts
from .catalogues import translate


@dataclass(frozen=True)
class Language:
    code: str
    german_name: str
    native_name: str
    rtl: bool = False

    @property
    def direction(self):
        return "rtl" if self.rtl else "ltr"


LANGUAGES = {language.code: language for language in [
    Language("ar", "Arabisch", "العربية", rtl=True),
    Language("uk", "Ukrainisch", "Українська"),
    Language("ru", "Russisch", "Русский"),
    Language("tr", "Türkisch", "Türkçe"),
    # One Persian text for Iran and Afghanistan: Farsi and Dari are written alike.
    Language("fa", "Farsi/Dari", "فارسی/دری", rtl=True),
    Language("en", "Englisch", "English"),
    Language("fr", "Französisch", "Français"),
    Language("ti", "Tigrinya", "ትግርኛ"),
    Language("kmr", "Kurdisch (Kurmancî)", "Kurmancî"),
]}


@dataclass(frozen=True)
class DocumentKind:
    key: str
    title: str
    template: str
    needs: str  # what it is printed for: "participant", "case" or "referral"

    @property
    def blocks(self):
        return texts.DOCUMENTS[self.key][1]


DOCUMENTS = {kind.key: kind for kind in [
    DocumentKind("consent", texts.DOCUMENTS["consent"][0], "privacy/document.html", "participant"),
    DocumentKind("information", texts.DOCUMENTS["information"][0], "privacy/document.html", "participant"),
    DocumentKind("goals", texts.DOCUMENTS["goals"][0], "privacy/document.html", "case"),
    DocumentKind("referral", texts.DOCUMENTS["referral"][0], "privacy/document.html", "referral"),
]}

# What a participant signs when consenting: the consent and the information it refers to.
SIGNED_WITH_CONSENT = ("consent", "information")

# Texts every document prints beside its own blocks.
_SHARED = [*texts.LABELS.values()]
_OWN = {
    "consent": [*texts.CATEGORY_TEXTS.values()],
    "information": [],
    "goals": [],
    "referral": [*texts.CATEGORY_TEXTS.values(), *texts.FIELD_LABELS.values(), *texts.REFERRAL_LABELS.values()],
}


def german_texts(kind: str) -> list[str]:
    """Every German text the document `kind` prints, in a fixed order."""
    blocks = [text for part, text in DOCUMENTS[kind].blocks if part != "data"]
    return [DOCUMENTS[kind].title, *blocks, *_SHARED, *_OWN[kind]]


def version(kind: str, language: str) -> str:
    """The version of the document's text in German and `language`: 10 hex digits of a hash
    of both texts, so that a changed word in either language is a new version."""
    digest = hashlib.sha256()
    for german in german_texts(kind):
        digest.update(german.encode())
        digest.update(b"\x1f")
        digest.update(translate(language, german).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:10]


def signed_versions(language: str) -> dict[str, str]:
    """{document kind: version} of what a participant signs with a consent in `language`."""
    return {kind: version(kind, language) for kind in SIGNED_WITH_CONSENT}
