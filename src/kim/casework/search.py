"""Finding a participant by name or code as a person would type it.

A case manager types the name as it is displayed ("Amira Nasser", "Nasser, Amira"), without
the diacritics her keyboard lacks ("Sahin" for Şahin, "Lukasiewicz" for Łukasiewicz, "Mueller"
for Müller) or a part of the participant code. The database cannot fold letters like that on
both SQLite and PostgreSQL alike, so each participant carries its folded name and code
(`Participant.search_text`, kept up to date on save), and a query is folded the same way:
every word of the query must occur in it, in any order."""

import re

from anyascii import anyascii
from django.db.models import Q

# German spelling without umlauts writes ä, ö, ü as ae, oe, ue. Folding both to the bare vowel,
# in the stored text and in the query alike, lets "Mueller" find Müller and "Muller" too.
GERMAN_TRANSCRIPTIONS = re.compile(r"([aou])e")


def fold(text: str) -> str:
    """Lower-case ASCII: transliterated (anyascii also covers letters that Unicode does not
    decompose, such as Ł, Đ, ı and ø, and non-Latin scripts), German transcriptions folded."""
    return GERMAN_TRANSCRIPTIONS.sub(r"\1", anyascii(text or "").lower())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def participant_search_text(first_name: str, last_name: str, code: str) -> str:
    """The words of name and code between spaces; a name of several parts also written as one
    word, so that "Alhassan" finds Al-Hassan."""
    parts = []
    for name in (first_name, last_name):
        name_words = words(name)
        parts += name_words + (["".join(name_words)] if len(name_words) > 1 else [])
    parts += words(code) + ["".join(words(code))]
    return f" {' '.join(parts)} "


def participant_sort_name(first_name: str, last_name: str) -> str:
    """Last and first name folded like the search text, so that lists put Öztürk among the O
    and Łukasiewicz among the L on SQLite and PostgreSQL alike (the databases compare bytes)."""
    return f"{fold(last_name)} {fold(first_name)}"[:300]


def participant_matches(query: str, path: str = "") -> Q | None:
    """The condition for participants (at `path`, e.g. "participant__") that match every word
    of `query`; None for a query without words."""
    query_words = words(query)
    if not query_words:
        return None
    condition = Q()
    for word in query_words:
        condition &= Q(**{f"{path}search_text__contains": word})
    return condition
