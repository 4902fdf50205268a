"""The guard that keeps personal data inside the provider: free text that leaves case work
(a need report to coordination, an anonymised case vignette, a forum's topics) is checked,
before it is sent, against the participants its author can see. A hit blocks sending with a
German message that quotes the author's own words, never whose they are.

What counts as a hit against the participants the author sees (read as a reader sees the text,
kim.casework.rules.visible_text, and folded like the search, kim.casework.search.fold):
- a first or last name (every part of at least three letters, a name of several parts also
  written as one word: "Alhassan"), as a whole word or with a genitive s ("Nassers",
  "Nasser's");
- a birth date in any usual spelling (31.12.1990, 31.12.90, 1990-12-31, 1990/12/31, 31 12 1990,
  19901231, 31. Dezember 1990, 31. Jänner 1990, December 31, 1990), in any context;
- a participant code however it is separated or split (TN-…, TN_…, TN …, "TN F86B TQUU"), also
  without its "TN";
- a case number the author sees, with a usual prefix (F-00042, F 42, F_42, Fall 42,
  Fall-Nr. 42, #42). A number alone is never one: only the author's own cases count.
Common words that are also names cannot be told apart: such a text asks its author to write
"the participant" instead.

Whatever the author can see, the text is also checked by form alone, because coordination
writes vignettes and forum notes but sees no participant to compare with (and looking names up
in the whole district would tell a coordinator who is a participant):
- a name after a form of address ("Frau Nasser", "Hr. Çelik", "Herrn Dr. Ilić", "Frau de Vries",
  "FRAU NASSER"); an initial ("Frau A.") is the anonymised form, and words that describe the
  person ("Frau Mitte 40", "Herr aus Syrien") are no name;
- a full date with birth context right before it (geb., geboren, Geburtsdatum, Geb.-Dat., *)
  or "geboren" right after it: other dates (a law's, an entry's) are ordinary findings;
- a participant code: TN, then a dash or nothing, then eight characters of the code alphabet;
  with other separators or spaces only if the eight contain a digit ("die TN erzählen" is about
  Teilnehmende);
- a case number as the system writes it (F-00042, F00042).
The guard is a barrier against slips, not against intent."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from anyascii import anyascii
from django.utils import timezone

from kim.casework.rules import IGNORABLE
from kim.casework.search import words

MIN_NAME_LETTERS = 3

# ---------------------------------------------------------------- dates
MONTHS = {name: number for number, names in enumerate([
    ("januar", "janner", "jaenner", "january", "jan"), ("februar", "feber", "february", "feb"),
    ("marz", "maerz", "march", "mar", "mrz"), ("april", "apr"), ("mai", "may"), ("juni", "june", "jun"),
    ("juli", "july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("oktober", "october", "okt", "oct"), ("november", "nov"), ("dezember", "december", "dez", "dec"),
], start=1) for name in names}
YEAR = r"(\d{4}|'?\d{2})"
DATE_SEPARATOR = r"(?:\s*[./-]\s*|\s+)"
ORDINAL = r"(?:st|nd|rd|th)?"
# 13.01.1987, 13.1.87, 13-01-1987, 13 01 1987, 03.04.'85
DAY_MONTH_YEAR = re.compile(rf"(?<![\d.])(\d{{1,2}}){DATE_SEPARATOR}(\d{{1,2}}){DATE_SEPARATOR}{YEAR}(?!\d)")
# 1987-01-13, 1987/01/13, 1987.01.13 (the same separator twice)
YEAR_MONTH_DAY = re.compile(r"(?<![\d.])(\d{4})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)")
# 19870113 or 13011987
EIGHT_DIGITS = re.compile(r"(?<![\d.])(\d{8})(?!\d)")
# 13. Januar 1987, 13 Jan 87, 13-Jan-1987, 13th of January 1987
DAY_MONTH_NAME_YEAR = re.compile(
    rf"(?<![\d.])(\d{{1,2}}){ORDINAL}\s*[./-]?\s*(?:of\s+)?([a-z]{{3,9}})(?![a-z])\.?\s*[-/,]?\s*{YEAR}(?!\d)")
# Mai 5, 1986; January 13th, 1987
MONTH_NAME_DAY_YEAR = re.compile(rf"(?<![a-z])([a-z]{{3,9}})\.?\s+(\d{{1,2}}){ORDINAL}\.?\s*,?\s*(\d{{4}})(?!\d)")
# Birth context before a date, in the same clause: the context word, then at most three words
# ("geb. in Aleppo am"); a full stop ends the clause ("… geboren. Einreise am 01.09.2010").
BIRTH_WORD_BEFORE = re.compile(
    r"(?:(?<![a-z])geb\b\.?(?:\s*-?\s*dat\b\.?)?|(?<![a-z])geboren|(?<![a-z])geburt(?:s?datum|stag)?(?![a-z])"
    r"|(?<![a-z])born|(?<![a-z])dob\b)[^\w.!?;]*(?:[a-z]+[^\w.!?;]+){0,3}$")
BIRTH_STAR_BEFORE = re.compile(r"\*\s*$")  # "* 03.04.1987" (not "Teilnehmer*innen am …")
BIRTH_WORD_AFTER = re.compile(r"^\s+(?:geboren|geb\b)")  # "am 4. März 1990 geboren"
BIRTH_CONTEXT_CHARACTERS = 60

# ---------------------------------------------------------------- codes and case numbers
CODE_LETTERS = set("abcdefghjklmnpqrstuvwxyz")  # the code alphabet's letters (no I, no O), lower case
# By form: TN, a dash or nothing, eight letters or digits ("TN-F86BTQUU", "TNF86BTQUU", "TN–F86BTQUU") …
CODE_FORM = re.compile(r"(?<![a-z0-9])tn-*([a-z0-9]{8})(?![a-z0-9])")
# … or other separators and spaces ("TN F86B TQUU", "TN_F86BTQUU"), then only with a digit among
# the eight: "die TN erzählen", "TN wünschen" are about Teilnehmende (see _looks_like_code).
CODE_FORM_SPACED = re.compile(r"(?<![a-z0-9])tn[\s_./:-]+([a-z0-9](?:[\s-]?[a-z0-9]){7})(?![a-z0-9])")
# A reference to a case of the author's: the number after a usual prefix.
CASE_REFERENCE = re.compile(
    r"(?<![a-z0-9])(?:(?:fall|case)(?:\s*-?\s*(?:nr|nummer|no|number))?|f)\.?[\s_./:#-]*0*(\d{1,9})(?![a-z0-9])"
    r"|#\s*0*(\d{1,9})(?![a-z0-9])")
# By form: a case number as the system writes it (F-00042); "Formular F-100" is a form's name.
CASE_NUMBER_FORM = re.compile(r"(?<![a-z0-9])f(?:\s*-\s*\d{5,9}|0\d{4,8})(?![a-z0-9])")

# ---------------------------------------------------------------- names after a form of address
# Case does not matter for the form of address and the titles ("frau Nasser", "FRAU NASSER");
# whether the word after them is a name is decided by _is_name.
ADDRESSED_NAME = re.compile(
    r"(?<![^\W\d_])(?:frau|fräulein|herrn?|familie|(?:fr|frl|hr|hrn|fam)\.)(?![^\W\d_])"
    r"(?<![-–—/]fr\.)"  # "Mo.–Fr. Vormittag" is a weekday
    r"\s*(?:(?:dr|prof|dipl|med|ing|doktor|professor)(?![^\W\d_])\.?\s*)*"
    r"(?P<name>(?:(?:de|van|al|el|da|di|du|dos|del|della|le|la|ten|ter|bin|ibn|abu|ben)"
    r"(?:[\s-]+(?:der|den|de|la|van))?[\s-]+)?[^\W\d_]+(?:[-'’][^\W\d_]+)*)",
    re.IGNORECASE)
NAME_PARTICLES = {"de", "van", "al", "el", "da", "di", "du", "dos", "del", "della", "le", "la", "ten", "ter",
                  "bin", "ibn", "abu", "ben", "der", "den"}
# Capitalised words after a form of address that describe the person or begin the next clause
# (folded): "Eine Frau Mitte 40", "Herr Anfang 60", "Familie Ende 2023 zugezogen", "FRAU MIT KIND".
NOT_NAMES = set("""
    mitte anfang ende alter jahrgang aus mit und oder ohne von vom im in am an auf bei nach vor seit zu zum zur
    fur uber unter als wie die der das den dem des ein eine einer einem einen eines sowie sie er es ihr ihre ist
    hat war wird vormittag nachmittag abend morgen mittag nacht doktor professor kollegin kollege
    burgermeisterin burgermeister landratin landrat ministerin minister vorsitzende vorsitzender
""".split())


@dataclass(frozen=True)
class Hit:
    kind: str  # "name", "birth date", "code", "case number"
    text: str  # the author's own words
    start: int = field(default=0, compare=False)  # where in the text (for the order and overlaps)
    end: int = field(default=0, compare=False)


def personal_data_in(text: str, user) -> list[Hit]:
    """What in `text` names a participant `user` can see, or looks like personal data by form
    (nothing for an empty text)."""
    written = Written(text or "")
    if not written.folded.strip():
        return []
    seen = _seen_by(user)
    hits = [*_name_hits(written, seen.names), *_birth_date_hits(written, seen.birth_dates),
            *_code_hits(written, seen.code_bodies), *_case_number_hits(written, user)]
    return _merge(hits + _by_form(written))


def _by_form(written) -> list[Hit]:
    """Hits by form alone, whoever the author is (see the module's docstring)."""
    return [*_addressed_names(written), *_dated_births(written), *_code_forms(written),
            *_case_number_forms(written)]


# ---------------------------------------------------------------- the text as the checks read it
class Written:
    """The author's text in the views the checks read, each character with the span of the
    original it comes from, so that a hit quotes the author's own words:
    - visible: as a reader sees it (kim.casework.rules.visible_text), letters and case kept;
    - plain: that in lower-case ASCII (anyascii), for codes, dates and numbers;
    - folded: plain with "ae", "oe", "ue" as "a", "o", "u" like the search
      (kim.casework.search.fold), for names. Codes are read in plain: a code may contain "AE"."""

    def __init__(self, text: str):
        self.original = text
        visible, self.visible_at = [], []
        for start, end, cluster in _clusters(text):
            if cluster.isascii():  # most of a German text, and as a reader sees it already
                visible.append(cluster)
                self.visible_at.append((start, end))
                continue
            for character in unicodedata.normalize("NFKC", cluster):
                if unicodedata.category(character) != "Cf" and ord(character) not in IGNORABLE:
                    visible.append(character)
                    self.visible_at.append((start, end))
        self.visible = "".join(visible)
        plain, self.plain_at = [], []
        for character, span in zip(self.visible, self.visible_at, strict=True):
            for letter in (character if character.isascii() else anyascii(character)).lower():
                plain.append(letter)
                self.plain_at.append(span)
        self.plain = "".join(plain)
        # fold's "([aou])e" → "\1", letter by letter: an "e" after a, o or u is left out.
        kept = [i for i, letter in enumerate(self.plain) if not (letter == "e" and i and self.plain[i - 1] in "aou")]
        self.folded = "".join(self.plain[i] for i in kept)
        self.folded_at = [self.plain_at[i] for i in kept]

    def hit(self, kind: str, at: list, start: int, end: int) -> Hit:
        """The hit for characters start:end of a view (`at` is that view's spans)."""
        first, last = at[start][0], at[end - 1][1]
        return Hit(kind, self.original[first:last].strip(), first, last)

    @cached_property
    def alphanumeric(self):
        """Only the letters and digits of plain, with their spans: a code split up or joined to
        its "TN" in any way ("TN F86B TQUU", "TN_F86BTQUU") reads as one run here."""
        kept = [i for i, letter in enumerate(self.plain) if letter.isalnum()]
        return "".join(self.plain[i] for i in kept), [self.plain_at[i] for i in kept]

    @cached_property
    def dates(self) -> list[tuple[int, int, set]]:
        """(start, end in plain, the dates it may mean) of everything written like a full date."""
        return list(_dates(self.plain))


def _clusters(text: str):
    """(start, end, characters) of each character with the combining marks after it: "S" and a
    combining cedilla become "Ş" only when normalised together."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or text[i].isascii() or not unicodedata.category(text[i]).startswith("M"):
            yield start, i, text[start:i]
            start = i


# ---------------------------------------------------------------- against the participants seen
@dataclass
class Seen:
    names: set
    birth_dates: set
    code_bodies: set  # the code without "TN" and dash, lower case ("f86btquu")


def _seen_by(user) -> Seen:
    """Names, birth dates and codes of the participants `user` sees, in one query. Names come
    folded from the search text the participant keeps (kim.casework.search), so that an author
    who sees a thousand participants does not have a thousand names folded at every check."""
    from kim.casework.models import Participant

    seen = Seen(set(), set(), set())
    rows = Participant.objects.visible_to(user).filter(anonymised_on__isnull=True).values_list("search_text", "birth_date", "code")
    for search_text, birth_date, code in rows:
        code_words = words(code)
        not_names = {*code_words, "".join(code_words)}
        seen.names |= {word for word in search_text.split()
                       if len(word) >= MIN_NAME_LETTERS and word.isalpha() and word not in not_names}
        if birth_date:
            seen.birth_dates.add(birth_date)
        body = re.sub(r"[^a-z0-9]", "", code.lower()).removeprefix("tn")
        if body:
            seen.code_bodies.add(body)
    return seen


NAME_TOKEN = re.compile(r"[a-z]+(?:'s(?![a-z]))?")
# The genitive s without an apostrophe only after a name of four letters or more: "Haus" and
# "Kurs" are no genitive of the names Hau and Kur ("Ali's" is caught, "Alis" is not).
MIN_GENITIVE_NAME_LETTERS = 4


def _name_hits(written, names: set):
    """Names as whole words, also with the genitive s ("Khaleds", "Khaled's", "Khaled’s")."""
    if not names:
        return
    for match in NAME_TOKEN.finditer(written.folded):
        word = match.group(0).removesuffix("'s")
        if word in names or (len(word) > MIN_GENITIVE_NAME_LETTERS and word.endswith("s") and word[:-1] in names):
            yield written.hit("name", written.folded_at, match.start(), match.end())


def _birth_date_hits(written, birth_dates: set):
    """A participant's birth date, in whatever context: only the real ones count."""
    for start, end, meanings in written.dates if birth_dates else ():
        if meanings & birth_dates:
            yield written.hit("birth date", written.plain_at, start, end)


def _code_hits(written, bodies: set):
    """A participant's code wherever its characters stand in a row, "TN" or not."""
    if not bodies:
        return
    letters, at = written.alphanumeric
    for body in bodies:  # a search per code: quicker than a look at every place of a long text
        i = letters.find(body)
        while i >= 0:
            start = i - 2 if letters[max(i - 2, 0):i] == "tn" else i
            yield written.hit("code", at, start, i + len(body))
            i = letters.find(body, i + 1)


def _case_number_hits(written, user):
    """A number after a case prefix that is a case the author sees (an ordinary number is none)."""
    from kim.casework.models import Case

    references = {}
    for match in CASE_REFERENCE.finditer(written.plain):
        references.setdefault(int(match.group(1) or match.group(2)), []).append(match)
    if not references:
        return
    for pk in Case.objects.visible_to(user).filter(pk__in=references).values_list("pk", flat=True):
        for match in references[pk]:
            yield written.hit("case number", written.plain_at, match.start(), match.end())


# ---------------------------------------------------------------- by form
def _addressed_names(written):
    for match in ADDRESSED_NAME.finditer(written.visible):
        if _is_name(match.group("name")):
            yield written.hit("name", written.visible_at, match.start(), match.end())


def _is_name(written_name: str) -> bool:
    """Whether the word(s) after a form of address are a name: after the particles ("de",
    "van der", "al-"), a capitalised word of two letters or more ("Ng"; "A." is an initial)
    that does not describe the person ("Mitte 40")."""
    parts = [part for part in re.split(r"[\s'’-]+", written_name) if part]
    while len(parts) > 1 and parts[0].lower() in NAME_PARTICLES:
        parts.pop(0)
    name = parts[0] if parts else ""
    return len(name) >= 2 and name[0].isupper() and "".join(words(name)) not in NOT_NAMES


def _dated_births(written):
    """A full date is a birth date by form only with birth context next to it."""
    plain = written.plain
    for start, end, meanings in written.dates:
        before = plain[max(start - BIRTH_CONTEXT_CHARACTERS, 0):start]
        if meanings and (BIRTH_WORD_BEFORE.search(before) or BIRTH_STAR_BEFORE.search(before)
                         or BIRTH_WORD_AFTER.match(plain[end:end + BIRTH_CONTEXT_CHARACTERS])):
            yield written.hit("birth date", written.plain_at, start, end)


def _code_forms(written):
    for match in CODE_FORM.finditer(written.plain):
        if _looks_like_code(written, match, spaced=False):
            yield written.hit("code", written.plain_at, match.start(), match.end())
    for match in CODE_FORM_SPACED.finditer(written.plain):
        if _looks_like_code(written, match, spaced=True):
            yield written.hit("code", written.plain_at, match.start(), match.end())


def _looks_like_code(written, match, spaced: bool) -> bool:
    """Whether the eight characters after "TN" are a code rather than words: a code has a digit
    or (written without spaces) only letters of the code alphabet, and it is written in capitals
    or all small, never like a word ("TN-Beratung", "TN: 25 Frauen", "TN-Kurs2024")."""
    body = match.group(1)
    has_digit = any(c.isdigit() for c in body)
    if not has_digit and (spaced or not set(body) <= CODE_LETTERS):
        return False
    as_written = written.hit("code", written.plain_at, match.start(1), match.end(1)).text
    return not any(len(part) > 1 and part[0].isupper() and part[1:].islower()
                   for part in re.split(r"[\s-]+", as_written))


def _case_number_forms(written):
    for match in CASE_NUMBER_FORM.finditer(written.plain):
        yield written.hit("case number", written.plain_at, match.start(), match.end())


# ---------------------------------------------------------------- dates
def _dates(plain: str):
    """(start, end, the dates it may mean) of every full date the text spells in a usual way.
    A date may mean more than one day: 13.1.87 is 1987 (or 2087, not yet), 05/13/1987 written
    the American way; what matters is whether one of them is a birth date."""
    for match in DAY_MONTH_YEAR.finditer(plain):
        day, month, year = match.groups()
        yield match.start(), match.end(), _meanings(day, month, year) | _meanings(month, day, year)
    for match in YEAR_MONTH_DAY.finditer(plain):
        year, _, month, day = match.groups()
        yield match.start(), match.end(), _meanings(day, month, year)
    for match in EIGHT_DIGITS.finditer(plain):
        digits = match.group(1)
        yield (match.start(), match.end(),
               _meanings(digits[6:], digits[4:6], digits[:4]) | _meanings(digits[:2], digits[2:4], digits[4:]))
    for match in DAY_MONTH_NAME_YEAR.finditer(plain):
        day, month, year = match.groups()
        if month in MONTHS:
            yield match.start(), match.end(), _meanings(day, MONTHS[month], year)
    for match in MONTH_NAME_DAY_YEAR.finditer(plain):
        month, day, year = match.groups()
        if month in MONTHS:
            yield match.start(), match.end(), _meanings(day, MONTHS[month], year)


def _meanings(day, month, year) -> set:
    """The days `day`.`month`.`year` may be: a two-digit year in either century up to now."""
    year = year.lstrip("'")
    this_year = timezone.localdate().year
    years = [int(year)] if len(year) == 4 else [1900 + int(year), 2000 + int(year)]
    days = set()
    for candidate in years:
        if 1900 <= candidate <= this_year:
            try:
                days.add(date(candidate, int(month), int(day)))
            except ValueError:
                pass
    return days


def _merge(hits) -> list[Hit]:
    """Each thing found once, in the order of the text: a hit inside another of its kind (the
    name in "Frau Nasser", found both ways) and a repetition are left out."""
    merged, seen = [], set()
    for hit in sorted(hits, key=lambda hit: (hit.start, -hit.end)):
        key = (hit.kind, "".join(words(hit.text)))
        inside = any(kept.kind == hit.kind and kept.start <= hit.start and hit.end <= kept.end for kept in merged)
        if key not in seen and not inside:
            seen.add(key)
            merged.append(hit)
    return merged
