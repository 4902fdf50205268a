"""The guard that keeps personal data inside the provider: free text that leaves case work
(a need report to coordination, an anonymised case vignette) is checked, before it is sent,
against the participants its author can see. A hit blocks sending with a German message that
says what was found, never whose it is.

What counts as a hit, in the text as a reader sees it (kim.casework.rules.visible_text) and
folded like the search (kim.casework.search.fold: no diacritics, no case, "ae" as "a"):
- a participant's first or last name (every part of at least three letters) as a whole word;
- a participant's birth date in any usual spelling (31.12.1990, 31.12.90, 1990-12-31,
  31. Dezember 1990), however the digits are padded;
- a participant code (TN-…) or a case number (F-00042), also written otherwise.
Common words that are also names cannot be told apart: such a text asks its author to write
"the participant" instead.

Whatever the author can see, the text is also checked by form alone, because coordination
writes vignettes and forum notes but sees no participant to compare with (and looking names up
in the whole district would tell a coordinator who is a participant): a name after a form of
address ("Frau Nasser", "Herrn Ilić"; an initial such as "Frau A." is the anonymised form), a
full date more than fourteen years back (a date of birth, most likely), anything written like a
participant code or a case number. The guard is a barrier against slips, not against intent."""

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from kim.casework.rules import participant_code_form, visible_text
from kim.casework.search import fold

MIN_NAME_LETTERS = 3
MONTHS = {name: number for number, names in enumerate([
    ("januar", "jan"), ("februar", "feb"), ("marz", "mar"), ("april", "apr"), ("mai",), ("juni", "jun"),
    ("juli", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("oktober", "okt"),
    ("november", "nov"), ("dezember", "dez")], start=1) for name in names}
NUMERIC_DATE = re.compile(r"\b(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{2}|\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})\b")
WORDED_DATE = re.compile(r"\b(\d{1,2})\s*\.?\s*([a-z]{3,9})\.?\s+(\d{2}|\d{4})\b")
CODE = re.compile(r"\btn\s*-?\s*[a-z0-9]{8}\b")
CASE_NUMBER = re.compile(r"\bf\s*-?\s*0*(\d{1,9})\b")
# Written like a case number: "F-00042", "F 42" would be too loose ("F 1" is a grade, a form).
CASE_NUMBER_FORM = re.compile(r"\bf\s*-\s*\d{3,9}\b")
ADDRESSED_NAME = re.compile(r"\b(?:Frau|Herrn?|Familie|Fam\.)\s+([A-ZÄÖÜ][^\W\d_]{2,})", re.UNICODE)
BIRTH_DATE_AGE = 14  # a full date at least this many years back is treated as a date of birth


@dataclass(frozen=True)
class Hit:
    kind: str  # "name", "birth date", "code", "case number"
    text: str  # what the text says, as written in it (folded)


def personal_data_in(text: str, user) -> list[Hit]:
    """What in `text` names a participant that `user` can see (nothing for an empty text)."""
    from kim.casework.models import Case, Participant

    text = text or ""
    folded = fold(visible_text(text))
    if not folded.strip():
        return []
    people = Participant.objects.visible_to(user).values_list("first_name", "last_name", "birth_date", "code")
    words = set(re.findall(r"[a-z0-9]+", folded))
    hits, names, birth_dates, codes = [], set(), set(), set()
    for first_name, last_name, birth_date, code in people:
        names |= {word for word in re.findall(r"[a-z]+", fold(f"{first_name} {last_name}"))
                  if len(word) >= MIN_NAME_LETTERS}
        if birth_date:
            birth_dates.add(birth_date)
        codes.add(participant_code_form(code))
    hits += [Hit("name", word) for word in sorted(words & names)]
    hits += [Hit("birth date", written) for written, day in _dates(folded) if day in birth_dates]
    hits += [Hit("code", match.group(0)) for match in CODE.finditer(folded)
             if participant_code_form(match.group(0).replace(" ", "")) in codes]
    numbers = {int(match.group(1)): match.group(0) for match in CASE_NUMBER.finditer(folded)}
    if numbers:
        visible = set(Case.objects.visible_to(user).filter(pk__in=numbers).values_list("pk", flat=True))
        hits += [Hit("case number", numbers[pk]) for pk in sorted(visible)]
    return _merge(hits, _by_form(text, folded))


def _by_form(text: str, folded: str) -> list[Hit]:
    """Hits by form alone, whoever the author is (see the module's docstring)."""
    hits = [Hit("name", match.group(0)) for match in ADDRESSED_NAME.finditer(visible_text(text))]
    today = timezone.localdate()
    limit = date(today.year - BIRTH_DATE_AGE, today.month, min(today.day, 28))
    hits += [Hit("birth date", written) for written, day in _dates(folded) if day and day <= limit]
    hits += [Hit("code", match.group(0)) for match in CODE.finditer(folded)]
    hits += [Hit("case number", match.group(0)) for match in CASE_NUMBER_FORM.finditer(folded)]
    return hits


def _merge(*groups) -> list[Hit]:
    """Each thing found once, in the order found."""
    seen, merged = set(), []
    for hit in (hit for group in groups for hit in group):
        key = (hit.kind, fold(hit.text))
        if key not in seen:
            seen.add(key)
            merged.append(hit)
    return merged


def _dates(folded: str):
    """(as written, date) of every date the text spells in a usual way."""
    for match in NUMERIC_DATE.finditer(folded):
        yield _date(match.group(0), match.group(3), match.group(2), match.group(1))
    for match in ISO_DATE.finditer(folded):
        yield _date(match.group(0), match.group(1), match.group(2), match.group(3))
    for match in WORDED_DATE.finditer(folded):
        month = MONTHS.get(match.group(2))
        if month:
            yield _date(match.group(0), match.group(3), month, match.group(1))


def _date(written, year, month, day):
    year = int(year)
    if year < 100:  # 31.12.90: the century a birth date most likely has
        year += 1900 if year > timezone.localdate().year % 100 else 2000
    try:
        return written, date(year, int(month), int(day))
    except ValueError:
        return written, None
