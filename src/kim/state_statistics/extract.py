"""The district side: what the Land gets, built exactly as the district's coordination would
see it (`build_table` with suppression), for the whole district and each municipality and
provider, plus staffing and funding (R8, R9: no records about people, not suppressed).

Row keys that are ids of this installation (catalogue entries, providers, municipalities) are
written as keys that mean the same in every district: a catalogue entry by its statewide key
(kim.core.defaults), a district's own entry, provider or town with the district's short name
in front, so that the Land adds up like with like and nothing else."""

import json
from dataclasses import replace
from datetime import date

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scope

from kim.core import defaults
from kim.core.models import (
    GoalCategory,
    Municipality,
    Provider,
    ReferralSource,
    ReferralTarget,
    Role,
    TargetGroup,
    ThematicOffer,
    Topic,
    User,
)
from kim.reports.framework import MUNICIPALITY, PROVIDER, ReportParams, build_table, get_report
from kim.reports.periods import Period
from kim.reports.renderers import table_as_dict

from . import signing

FORMAT = "kim-statistik"
VERSION = 1
# The report cells the Land needs (suppressed) and the staffing and funding figures (not).
COUNTED_REPORTS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14", "R15")
STAFFING_REPORTS = ("R8", "R9")
TOTAL_CUT = "total"
# Which catalogue a report's rows are the entries of (R14: the offer inside "o:", "f:", "a:").
CATALOGUE_OF = {"R2": Topic, "R3": TargetGroup, "R4": ReferralSource, "R5": GoalCategory, "R6": ReferralTarget,
                "R14": ThematicOffer}
# Row keys "p:<provider id>" (R10, R15), "k:<town>", "e:<employer>" (R8), "w:<provider>" (R9).
LOCAL_PREFIXES = ("p:", "k:", "e:", "w:")
ALL_TOPICS = 50  # R2 shows the top n topics; the Land gets every one


def expected_columns(report_id: str) -> list[dict]:
    """The columns this installation's definition of `report_id` gives the coordination (one
    period, no private measures), as `_table` writes them: what the Land accepts and adds up."""
    report = get_report(report_id)
    columns = []
    for measure in report.measures:
        if measure.private:
            continue
        unit = ("percent" if measure.percent else "count" if measure.kind == "count"
                else "text" if measure.kind == "text" else "number")
        columns.append({"key": f"{measure.key}@0", "label": str(measure.label or report.title),
                        "measure": measure.key, "unit": unit})
        if measure.share:
            columns.append({"key": f"{measure.key}%@0", "label": _("Share"), "measure": measure.key, "unit": "percent"})
    return columns


def statistical_reader(district) -> User:
    """The reader the extract is built for: the district's coordination (an account that is
    never saved), so that the extract holds what the coordination may publish and no more."""
    reader = User(username=f"statistik-{district.slug}", role=Role.COORDINATION, district=district, is_active=True)
    reader._perm_cache = set()  # no permissions of Django's own tables: the rules table decides
    return reader


def build_extract(district, year: int, today: date | None = None) -> dict:
    """The extract of `district` for `year` (unsigned). Raises ParamError (German) for a year
    the coordination may not ask for, e.g. one that has not ended."""
    reader = statistical_reader(district)
    question = ReportParams(period=Period.of("year", year), reference_date=date(year, 12, 31), top=ALL_TOPICS,
                            published=True)
    with translation.override("de"), scope(district=district.pk):
        keys = _row_key_names(district)
        members = {
            MUNICIPALITY: {str(m.pk): m.name for m in Municipality.objects.order_by("pk")},
            PROVIDER: {str(p.pk): p.name for p in Provider.objects.order_by("pk")},
        }
        reports = {}
        for report_id in COUNTED_REPORTS + STAFFING_REPORTS:
            report = get_report(report_id)
            reports[report_id] = {
                "title": str(report.title), "description": str(report.description),
                "suppressed": report_id in COUNTED_REPORTS and report.suppressible,
                "cuts": _cuts(reader, report, question, members, keys, district.slug),
            }
        _protect_staff(reports, max(3, district.suppression_k))
    return {
        "format": FORMAT, "version": VERSION,
        "district": {"slug": district.slug, "name": district.name, "suppression_k": max(3, district.suppression_k)},
        "year": year, "reference_date": question.reference_date.isoformat(),
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "members": members,
        "reports": reports,
    }


def _cuts(reader, report, question, members, keys, slug) -> dict:
    """The whole district, then each municipality and provider where the report has the cut
    for aggregate readers (R10 and R15 per provider only; R8 and R9 the district's only)."""
    cuts = {TOTAL_CUT: _table(reader, report, question, keys, slug)}
    if report.id in STAFFING_REPORTS:
        return cuts
    if MUNICIPALITY in report.cuts and not report.per_provider_for_aggregate_readers:
        cuts[MUNICIPALITY] = {pk: _table(reader, report, _with(question, municipality_id=int(pk)), keys, slug)
                              for pk in members[MUNICIPALITY]}
    if PROVIDER in report.cuts:
        cuts[PROVIDER] = {pk: _table(reader, report, _with(question, provider_id=int(pk)), keys, slug)
                          for pk in members[PROVIDER]}
    return cuts


def _protect_staff(reports, k):
    """Staff figures are no counts of people served, but a row of fewer than k employees is one
    or two identifiable persons' working hours: R8 hides such rows (and enough others that none
    is the difference of a published sum and the rest), R15 leaves out its rows per provider
    (a small provider's rows are one case manager's work)."""
    _hide_small_staff_rows(reports["R8"]["cuts"][TOTAL_CUT], k)
    r15 = reports["R15"]["cuts"]
    r15.pop(PROVIDER, None)
    r15[TOTAL_CUT]["rows"] = [row for row in r15[TOTAL_CUT]["rows"] if not row["key"].startswith("p:")]


STAFF_PEOPLE = "people@0"


def _hide_small_staff_rows(table, k):
    rows = table["rows"]
    people = [row["values"].get(STAFF_PEOPLE) or 0 for row in rows]
    groups = _sum_groups(rows)
    hidden = {index for index, n in enumerate(people) if 0 < n < k}
    changed = True
    while changed:
        changed = False
        for parent, children in groups.items():
            shown = [c for c in children if c not in hidden]
            one_hidden = len(children) - len(shown) == 1 and parent not in hidden
            parent_is_their_sum = parent in hidden and shown and len(shown) == len(children)
            if (one_hidden or parent_is_their_sum) and shown:
                hidden.add(min(shown, key=lambda c: people[c]))
                changed = True
    for index in hidden:
        row = rows[index]
        row["values"] = {key: None for key in row["values"]}
        row["suppressed"] = sorted(row["values"])
        row["below_k"] = [STAFF_PEOPLE] if 0 < people[index] < k else []


def _is_heading(row) -> bool:
    return not row["sum_of_children"] and all(value is None for value in row["values"].values())


def _sum_groups(rows) -> dict:
    """{index of a row: indexes of the rows that add up to it}: the rows one level deeper under a
    sum; the rows under a heading without figures ("Nach Kommune") add up to the whole ("total")."""
    whole = next((index for index, row in enumerate(rows) if row["key"] == "total"), None)
    groups, parents = {}, []
    for index, row in enumerate(rows):
        level = row["level"]
        parents = [p for p in parents if p[0] < level]
        if _is_heading(row):
            if whole is not None:
                parents.append((level, whole))
            continue
        if parents:
            groups.setdefault(parents[-1][1], []).append(index)
        if row["sum_of_children"]:
            parents.append((level, index))
    return groups


def _with(question, **changes):
    return replace(question, **changes)


def _table(reader, report, question, keys, slug) -> dict:
    """A table as the JSON download shows it, without what is local to this installation."""
    table = table_as_dict(build_table(reader, report, question))
    for row in table["rows"]:
        row["key"] = stable_row_key(report.id, row["key"], keys, slug)
    return {
        "columns": [{name: column[name] for name in ("key", "label", "measure", "unit")} for column in table["columns"]],
        "rows": table["rows"],
        "suppression": table["suppression"],
    }


def _row_key_names(district) -> dict:
    """{catalogue model: {pk: key that means the same in every district}}. Only the keys of the
    statewide defaults (kim.core.defaults) are statewide; any other key is the district's own
    (e.g. "abh-8", the foreigners' office of the district's town no. 8, which in another
    installation is another town) and goes with the district's short name like an entry without key."""
    names = {}
    for model in set(CATALOGUE_OF.values()):
        statewide = {entry[0] for entry in defaults.BY_MODEL_NAME.get(model.__name__, ())}
        names[model] = {pk: (key if key in statewide else f"{district.slug}.{pk}")
                        for pk, key in model.objects.filter(district=district).values_list("pk", "key")}
    return names


def stable_row_key(report_id: str, key: str, names: dict, slug: str) -> str:
    key = str(key)
    model = CATALOGUE_OF.get(report_id)
    if model is not None and key.isdigit():
        return f"c:{names[model].get(int(key), f'{slug}.{key}')}"
    if report_id == "R14" and key[:2] in ("o:", "f:", "a:"):
        parts = key.split(":")
        parts[1] = names[ThematicOffer].get(int(parts[1]), f"{slug}.{parts[1]}") if parts[1].isdigit() else parts[1]
        return ":".join(parts)
    if key[:2] in LOCAL_PREFIXES and key[2:].isdigit():
        return f"{key[:2]}{slug}.{key[2:]}"
    return key


def signed_file(extract: dict, key) -> bytes:
    """The file the district sends: the extract and its signature."""
    envelope = {
        "format": FORMAT, "version": VERSION, "extract": extract,
        "signature": {"algorithm": signing.ALGORITHM, "key_id": key.key_id,
                      "value": signing.signature(extract, key.secret)},
    }
    return json.dumps(envelope, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
