"""Every change of the statistics tables: one function, one transaction, one audit entry.

District side: `make_key` (once) and `export_file`. State side: `register_district` and
`import_extract`, which checks a file completely before it changes anything: size, JSON,
schema, the district, the signature, the year. Each refusal is an ExtractError with a German
message for the page and the command line."""

import json
import math
import re
import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.audit import record
from kim.core.models import AuditEntry, District

from . import signing
from .extract import (
    COUNTED_REPORTS,
    FORMAT,
    STAFFING_REPORTS,
    TOTAL_CUT,
    VERSION,
    build_extract,
    expected_columns,
    signed_file,
)
from .models import DistrictKey, Extract, RegisteredDistrict

log = logging.getLogger("kim.statistics")

# An extract of the largest district is some megabytes; anything far above is no extract.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# A district's smallest count shown (kim.core.models.District.suppression_k).
MIN_K, MAX_K = 3, 20


SLUG_LENGTH = RegisteredDistrict._meta.get_field("slug").max_length
NAME_LENGTH = RegisteredDistrict._meta.get_field("name").max_length
slug_pattern = re.compile(r"[-a-zA-Z0-9_]+")


class ExtractError(ValueError):
    """A file the Land does not take, with the reason in German."""


def max_bytes() -> int:
    return int(getattr(settings, "KIM_STATISTICS_MAX_BYTES", DEFAULT_MAX_BYTES))


def too_large() -> str:
    return _("The file is larger than %(mb)s MB: that is no statistics extract.") % {
        "mb": f"{max_bytes() / (1024 * 1024):g}"}


# ---------------------------------------------------------------- district side


@transaction.atomic
def make_key(actor, district, replace: bool = False) -> DistrictKey:
    """The district's signing key, made once: a second call is refused, since the Land has
    registered the first, unless `replace` (a lost or disclosed key; the Land registers the new one)."""
    secret = signing.new_secret()
    # The district's row is locked: a missing key can not be, and two first calls would both make one.
    District.objects.select_for_update().filter(pk=district.pk).first()
    key = DistrictKey.objects.select_for_update().filter(district=district).first()
    if key is not None and not replace:
        raise ExtractError(_("The district %(district)s has a signing key already.") % {"district": district.slug})
    if key is None:
        key = DistrictKey.objects.create(district=district, key_id=signing.key_id(secret), secret=secret)
        record(actor, AuditEntry.Action.CREATE, key, changes={"key_id": key.key_id})
        return key
    previous = key.key_id
    key.key_id, key.secret = signing.key_id(secret), secret
    key.save()
    record(actor, AuditEntry.Action.UPDATE, key, changes={"key_id": [previous, key.key_id]})
    return key


def export_file(district, year: int) -> bytes:
    """The signed extract of `district` for `year` (reads only; nothing is stored)."""
    key = DistrictKey.objects.filter(district=district).first()
    if key is None:
        raise ExtractError(_(
            "The district %(district)s has no signing key yet: make it once with "
            "“kim statistics make-key --district %(district)s” and send the Land the secret.") % {
            "district": district.slug})
    return signed_file(build_extract(district, year), key)


# ---------------------------------------------------------------- state side


@transaction.atomic
def register_district(actor, slug: str, name: str, secret: str) -> RegisteredDistrict:
    """Accept `slug`'s extracts signed with `secret`; registering again changes name or secret."""
    secret = (secret or "").strip().lower()
    if len(secret) != 64 or any(c not in "0123456789abcdef" for c in secret):
        raise ExtractError(_("The secret is 64 hexadecimal characters, as the district's “make-key” printed it."))
    if not slug or not name:
        raise ExtractError(_("Give the district's short name and name."))
    if len(slug) > SLUG_LENGTH or not slug_pattern.fullmatch(slug):
        raise ExtractError(_("The short name is the district's short name in KIM: at most %(n)d letters, digits, "
                             "hyphens or underscores.") % {"n": SLUG_LENGTH})
    if len(name) > NAME_LENGTH:
        raise ExtractError(_("The name is at most %(n)d characters long.") % {"n": NAME_LENGTH})
    fields = {"name": name, "key_id": signing.key_id(secret), "secret": secret}
    other = RegisteredDistrict.objects.filter(key_id=fields["key_id"]).exclude(slug=slug).first()
    if other is not None:
        raise ExtractError(_("This secret is registered for %(district)s already: every district has its own key.") % {
            "district": other.name})
    existing = RegisteredDistrict.objects.select_for_update().filter(slug=slug).first()
    if existing is None:
        try:
            with transaction.atomic():
                source = RegisteredDistrict.objects.create(slug=slug, **fields)
        except IntegrityError:
            raise ExtractError(at_the_same_time()) from None
        record(actor, AuditEntry.Action.CREATE, source, changes={"name": name, "key_id": fields["key_id"]})
        return source
    before = {"name": existing.name, "key_id": existing.key_id}
    for field, value in fields.items():
        setattr(existing, field, value)
    existing.save()
    record(actor, AuditEntry.Action.UPDATE, existing,
           changes={f: [before[f], fields[f]] for f in before if before[f] != fields[f]})
    return existing


def import_extract(actor, raw: bytes, year: int | None = None) -> tuple[Extract, bool]:
    """Check the file, then store its extract in one transaction with one audit entry.
    The same district and year imported again replaces the extract (True: replaced), unless the
    stored one is newer. Refusals are logged (a forged or replayed file is worth a look)."""
    try:
        return _import(actor, raw, year)
    except ExtractError as refused:
        log.warning("statistics import refused (actor %s): %s", getattr(actor, "pk", None), refused)
        raise


def _import(actor, raw, year):
    envelope, source = verified(raw, year)
    extract = envelope["extract"]
    checksum = signing.digest(extract)
    created = _instant(extract["created_at"])
    try:
        with transaction.atomic():
            # The district's row is locked, so two imports of the same district one after the
            # other: the second sees the first's extract (a missing row can not be locked).
            RegisteredDistrict.objects.select_for_update().filter(pk=source.pk).first()
            stored = Extract.objects.select_for_update().filter(source=source, year=extract["year"]).first()
            if stored is not None and created < stored.created_at:
                raise ExtractError(_(
                    "The stored extract of %(district)s for %(year)d is newer (made %(stored)s) than this one "
                    "(made %(found)s): the Land keeps the newer one.") % {
                    "district": source.name, "year": extract["year"],
                    "stored": _shown(stored.created_at), "found": _shown(created)})
            replaced = stored is not None
            previous = stored.digest if stored else ""
            if stored is None:
                stored = Extract(source=source, year=extract["year"])
            stored.content, stored.digest, stored.created_at = extract, checksum, created
            stored.imported_at, stored.imported_by = timezone.now(), actor if getattr(actor, "pk", None) else None
            stored.save()
            record(actor, AuditEntry.Action.IMPORT, stored, changes={
                "district": source.slug, "year": extract["year"], "digest": checksum, "replaced": previous,
                "unchanged": previous == checksum,
            })
    except IntegrityError:
        raise ExtractError(at_the_same_time()) from None
    return stored, replaced


def at_the_same_time() -> str:
    return _("Another import or registration for the same district ran at the same time: nothing was changed "
             "by this one. Please try again.")


def _shown(moment) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def verified(raw: bytes, year: int | None = None):
    """(envelope, registered district) of a file that passes every check; ExtractError else."""
    if len(raw) > max_bytes():
        raise ExtractError(too_large())
    try:
        envelope = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ExtractError(_("The file is not a statistics extract: it is no JSON file (UTF-8).")) from None
    check_schema(envelope)
    extract = envelope["extract"]
    source = RegisteredDistrict.objects.filter(slug=extract["district"]["slug"]).first()
    if source is None:
        raise ExtractError(_("The district “%(slug)s” is not registered with the Land: register its key first.") % {
            "slug": extract["district"]["slug"]})
    sign = envelope.get("signature")
    if not isinstance(sign, dict) or not sign.get("value"):
        raise ExtractError(_("The extract is not signed: the Land takes signed extracts only."))
    if sign.get("algorithm") != signing.ALGORITHM:
        raise ExtractError(_("The extract is signed with an unknown method; expected is %(algorithm)s.") % {
            "algorithm": signing.ALGORITHM})
    if sign.get("key_id") != source.key_id:
        raise ExtractError(_(
            "The extract is signed with another key than the one registered for %(district)s: the district may "
            "have made a new key, which the Land must register first.") % {"district": source.name})
    if not signing.is_valid(extract, sign["value"], source.secret):
        raise ExtractError(_(
            "The signature does not match the content: the file was changed after the district made it, or is "
            "damaged. Ask the district for the extract again."))
    if year is not None and extract["year"] != year:
        raise ExtractError(_("The extract is for %(found)d, not for %(expected)d.") % {
            "found": extract["year"], "expected": year})
    return envelope, source


def _no_constant(name):
    """NaN and Infinity are no JSON (PostgreSQL refuses them) and no count."""
    raise ValueError(name)


def _schema_error(detail: str) -> ExtractError:
    return ExtractError(_("The file is not a statistics extract of this version: %(detail)s.") % {"detail": detail})


def is_readable(extract) -> bool:
    """Whether a stored extract passes today's checks (defence in depth for the Land's pages:
    content stored by an older version, or written past the import)."""
    try:
        check_schema({"format": FORMAT, "version": VERSION, "extract": extract})
    except (ExtractError, TypeError, ValueError, KeyError, AttributeError):
        return False
    return True


def check_schema(envelope):
    """The structure docs/statistik-schnittstelle.md describes, down to each table's rows."""
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise _schema_error(_("the field “format” is missing or not “%(format)s”") % {"format": FORMAT})
    if envelope.get("version") != VERSION:
        raise _schema_error(_("version %(found)s, this installation reads version %(version)d") % {
            "found": envelope.get("version"), "version": VERSION})
    extract = envelope.get("extract")
    if not isinstance(extract, dict):
        raise _schema_error(_("the field “extract” is missing"))
    if extract.get("format") != FORMAT or extract.get("version") != VERSION:
        raise _schema_error(_("format and version of the extract differ from the file's"))
    district = extract.get("district")
    if not isinstance(district, dict) or not isinstance(district.get("slug"), str) \
            or not isinstance(district.get("name"), str) or not _is_int(district.get("suppression_k")):
        raise _schema_error(_("the district is not given with short name, name and smallest count shown"))
    if not MIN_K <= district["suppression_k"] <= MAX_K:
        raise _schema_error(_("the smallest count shown is %(k)s, a district's is between %(low)d and %(high)d") % {
            "k": district["suppression_k"], "low": MIN_K, "high": MAX_K})
    year = extract.get("year")
    if not _is_int(year) or not 1990 <= year <= 2100:
        raise _schema_error(_("the year is missing or not between 1990 and 2100"))
    try:
        _instant(extract.get("created_at"))
        reference = date.fromisoformat(str(extract.get("reference_date")))
    except ValueError:
        raise _schema_error(_("the dates are not given as ISO dates")) from None
    if reference != date(year, 12, 31):
        raise _schema_error(_("the reference date is not 31 December of the year"))
    _check_times(year, _instant(extract.get("created_at")))
    members = extract.get("members")
    if not isinstance(members, dict) or not all(isinstance(members.get(cut), dict) for cut in ("municipality", "provider")):
        raise _schema_error(_("the municipalities and providers are missing"))
    reports = extract.get("reports")
    if not isinstance(reports, dict) or set(reports) != set(COUNTED_REPORTS + STAFFING_REPORTS):
        raise _schema_error(_("the reports are not %(reports)s") % {"reports": ", ".join(COUNTED_REPORTS + STAFFING_REPORTS)})
    for report_id, report in reports.items():
        if not isinstance(report, dict) or not isinstance(report.get("cuts"), dict):
            raise _schema_error(_("report %(id)s has no tables") % {"id": report_id})
        if not _is_text(report.get("title")) or not isinstance(report.get("description"), str) \
                or not isinstance(report.get("suppressed"), bool):
            raise _schema_error(_("a table of report %(id)s is not complete") % {"id": report_id})
        cuts = report["cuts"]
        tables = [cuts.get(TOTAL_CUT)]
        for cut in ("municipality", "provider"):
            if cut in cuts:
                if not isinstance(cuts[cut], dict):
                    raise _schema_error(_("report %(id)s has no tables") % {"id": report_id})
                tables += list(cuts[cut].values())
        expected = expected_columns(report_id)
        for table in tables:
            _check_table(report_id, table, expected)


# Bounds of what an honest extract holds: far above any district's figures, far below what
# breaks a sum or a page (1e30, 5000 digits).
MAX_COUNT = 10**9
MAX_NUMBER = 10**12
MAX_TEXT = 500
MAX_LEVEL = 20


def _check_table(report_id, table, expected):
    """Columns exactly as this installation's definition of the report has them, every cell a
    value its unit can have, and a hidden cell without its value."""
    bad = _schema_error(_("a table of report %(id)s is not complete") % {"id": report_id})
    if not isinstance(table, dict) or not isinstance(table.get("columns"), list) or not isinstance(table.get("rows"), list):
        raise bad
    suppression = table.get("suppression")
    if not isinstance(suppression, dict) or not isinstance(suppression.get("withheld"), bool):
        raise bad
    if [_column_shape(c) for c in table["columns"]] != [_column_shape(c) for c in expected]:
        raise _schema_error(_("the columns of report %(id)s differ from this installation's report definitions "
                              "(another version of the software?)") % {"id": report_id})
    units = {c["key"]: c["unit"] for c in expected}
    for row in table["rows"]:
        _check_row(report_id, row, units, bad)


def _column_shape(column):
    if not isinstance(column, dict) or not isinstance(column.get("label"), str):
        return None
    return column.get("key"), column.get("measure"), column.get("unit")


def _check_row(report_id, row, units, bad):
    if not isinstance(row, dict) or not _is_text(row.get("key")) or not _is_text(row.get("label")) \
            or not _is_int(row.get("level")) or not 0 <= row["level"] <= MAX_LEVEL:
        raise bad
    values, hidden, below = row.get("values"), row.get("suppressed"), row.get("below_k")
    if not isinstance(values, dict) or not isinstance(hidden, list) or not isinstance(below, list) \
            or not isinstance(row.get("sum_of_children"), bool):
        raise bad
    if not all(isinstance(key, str) and key in units for key in [*values, *hidden, *below]) \
            or not set(below) <= set(hidden):
        raise bad
    for key, value in values.items():
        if key in hidden and value is not None:
            raise _schema_error(_("report %(id)s lists a cell as hidden that still carries its value") % {
                "id": report_id})
        if not _fits(units[key], value):
            raise _schema_error(_("report %(id)s has a value that its column cannot have (column %(column)s, "
                                  "row %(row)s)") % {"id": report_id, "column": key, "row": row["key"][:60]})


def _fits(unit, value) -> bool:
    """Counts are whole numbers from 0, figures finite and bounded; None is an empty or hidden cell."""
    if value is None:
        return True
    if unit == "count":
        return _is_int(value) and 0 <= value <= MAX_COUNT
    if unit == "text":
        return _is_text(value)
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value) and abs(value) <= MAX_NUMBER


def _is_text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


# Clocks of two servers differ a little; an extract "made" later than that is no extract.
CLOCK_SKEW = timedelta(minutes=10)


def _check_times(year, created):
    """A year is exported after it has ended (kim.reports.periods), so an extract is made after it, and
    not in the future."""
    now = timezone.now()
    if year >= timezone.localdate().year:
        raise _schema_error(_("the year %(year)d has not ended yet") % {"year": year})
    if created > now + CLOCK_SKEW:
        raise _schema_error(_("the extract was made in the future (%(made)s)") % {"made": _shown(created)})
    if created.date() < date(year + 1, 1, 1) - timedelta(days=1):
        raise _schema_error(_("the extract was made before the end of its year (%(made)s)") % {"made": _shown(created)})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _instant(text):
    moment = datetime.fromisoformat(str(text))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
