"""Small-count suppression. The attacker test downloads every table a coordination user
can get and tries to work out any hidden cell from the sums that tie them together."""

import json
import math
import random
from collections import defaultdict

import pytest
from django.urls import reverse

from kim.reports.framework import get_report
from kim.reports.suppression import Constraint, suppress

from .factories import make_district
from .report_data import make_org, random_records

K = 5
INF = math.inf
SUPPRESSIBLE = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R14"]
# What an attacker learns from R10's utilisation band about the active cases n of a row,
# with capacity = key × FTE: (lowest share, share below which n lies).
BANDS = {"unter 50 %": (0, 0.5), "50 bis 79 %": (0.5, 0.8), "80 bis 100 %": (0.8, 1.0001), "über 100 %": (1.0001, None)}


def test_a_lone_small_cell_gets_a_partner():
    values = {"total": 20, "a": 2, "b": 9, "c": 9}
    result = suppress(values, [Constraint("total", ("a", "b", "c"))], K)
    assert result.primary == {"a"}
    assert result.complementary == {"b"} or result.complementary == {"c"}


def test_small_cells_at_their_limit_are_protected():
    # a + b = 8 with both shown as "< 5" would still give a = b = 4.
    values = {"total": 18, "a": 4, "b": 4, "c": 10}
    result = suppress(values, [Constraint("total", ("a", "b", "c"))], K)
    assert "c" in result.hidden or "total" in result.hidden


def test_zero_is_shown_as_below_k_like_any_small_count():
    values = {"total": 25, "a": 0, "b": 10, "c": 15}
    result = suppress(values, [Constraint("total", ("a", "b", "c"))], K)
    assert result.primary == {"a"} and result.complementary == set()  # 0 is no secret in a sum of 25


def test_cells_published_elsewhere_are_audited_not_hidden():
    # The Land (kim.state_statistics): districts d1, d2 publish a, b with d2's b hidden; the
    # Land's sums may be hidden further, the districts' cells are given and stay as they are.
    given = {("a", "d1"): (20, 20), ("b", "d1"): (10, 10), ("t", "d1"): (30, 30),
             ("a", "d2"): (12, 12), ("b", "d2"): (0, K - 1), ("t", "d2"): (12, 12),
             ("b", "*"): (0, INF)}
    values = {("a", "*"): 32, ("t", "*"): 42}
    constraints = [Constraint((row, "*"), ((row, "d1"), (row, "d2"))) for row in "abt"]
    constraints += [Constraint(("t", column), (("a", column), ("b", column))) for column in ("d1", "d2", "*")]
    result = suppress(values, constraints, K, given=given)
    assert result.hidden & set(values)  # else the Land's b = 42 - 32 = 10 is worked out
    assert not result.hidden & set(given)


# ---------------------------------------------------------------- the attacker


class Attacker:
    """Interval reasoning over everything downloaded: each row with children is the sum of
    them; the district table is the sum of the provider tables and at least the sum of the
    municipality tables. "< k" means 0..k-1; any other hidden cell is at least k."""

    def __init__(self, k):
        self.k = k
        self.bounds = {}
        self.equalities = []  # (total, parts)
        self.at_least = []  # (total, parts): total >= sum(parts)

    def cell(self, key, value, marker):
        if marker == "below":
            self.bounds[key] = [0, self.k - 1]
        elif marker == "hidden":
            self.bounds[key] = [self.k, INF]  # every count below k is shown as "< k"
        elif marker == "unknown":
            self.bounds[key] = [0, INF]
        else:
            self.bounds[key] = [value, value]

    def propagate(self):
        for _ in range(300):
            changed = False
            for total, parts in self.equalities:
                changed |= self._tighten(total, parts, exact=True)
            for total, parts in self.at_least:
                changed |= self._tighten(total, parts, exact=False)
            if not changed:
                return

    def _tighten(self, total, parts, exact):
        t = self.bounds[total]
        ps = [self.bounds[p] for p in parts]
        lo = sum(p[0] for p in ps)
        hi = math.inf if any(p[1] == math.inf for p in ps) else sum(p[1] for p in ps)
        changed = False
        if lo > t[0]:
            t[0], changed = lo, True
        if exact and hi < t[1]:
            t[1], changed = hi, True
        for index, p in enumerate(ps):
            rest = ps[:index] + ps[index + 1:]
            rest_lo = sum(r[0] for r in rest)
            rest_hi = math.inf if any(r[1] == math.inf for r in rest) else sum(r[1] for r in rest)
            new_hi = min(p[1], t[1] - rest_lo)
            new_lo = max(p[0], t[0] - rest_hi) if exact and rest_hi != math.inf else p[0]
            if (new_lo, new_hi) != (p[0], p[1]):
                p[0], p[1], changed = new_lo, new_hi, True
        return changed


def load_table(attacker, tag, payload, seen_hidden, seen_below):
    """Add a downloaded JSON table to the attacker's knowledge; return its row keys in order."""
    keys = []
    count_columns = [c for c in payload["columns"] if c["unit"] == "count"]
    if payload["report"] == "R10" and not count_columns:
        # R10 shows aggregate readers no counts; the active cases of each row are unknowns
        # that the attacker narrows with the utilisation bands and ties to R3.
        count_columns = [{"key": "n@0", "implicit": True}]
        for row in payload["rows"]:
            row["suppressed"] = [*row["suppressed"], "n@0"]
            row["values"].setdefault("n@0", None)
    for row in payload["rows"]:
        for column in count_columns:
            key = (tag, row["key"], column["key"])
            marker = "below" if column["key"] in row["below_k"] else ("hidden" if column["key"] in row["suppressed"] else None)
            if marker and (payload["suppression"]["withheld"] or column.get("implicit")):
                marker = "unknown"  # a withheld table, or R10's counts that are never shown
            attacker.cell(key, row["values"][column["key"]], marker)
            if marker == "below" and payload["report"] != "R10":
                seen_below.add(key)
            # R10 never shows its counts to aggregate readers; they are unknowns that may help
            # the attacker (with the bands), but not small counts hidden by suppression.
            if marker and payload["report"] != "R10":
                seen_hidden.add(key)
                # A hidden count never comes with its share.
                share = column["key"].replace("@", "%@")
                assert share not in row["values"] or row["values"][share] is None
        keys.append((row["key"], row["level"], row["sum_of_children"]))
        band = row["values"].get("band@0")
        if band in BANDS and row["values"].get("fte@0"):
            capacity = row["values"]["key@0"] * row["values"]["fte@0"]
            low, high = BANDS[band]
            bounds = attacker.bounds[(tag, row["key"], "n@0")]
            bounds[0] = max(bounds[0], math.ceil(low * capacity - 1e-9))
            if high is not None:
                bounds[1] = min(bounds[1], math.ceil(high * capacity - 1e-9) - 1)
    if payload["report"] == "R2":
        assert_ranking_ignores_hidden(payload)
    columns = [c["key"] for c in count_columns]
    for index, (row_key, level, sums) in enumerate(keys):
        children = []
        for child_key, child_level, _sums in keys[index + 1:]:
            if child_level <= level:
                break
            if child_level == level + 1:
                children.append(child_key)
        if children and sums:
            for column in columns:
                attacker.equalities.append(((tag, row_key, column), [(tag, c, column) for c in children]))
    return [k for k, _level, _sums in keys], columns


def assert_ranking_ignores_hidden(payload):
    """Topics are ranked by what the reader sees: a hidden topic never stands above a shown
    one with a positive count, which would tell that it is larger."""
    seen_hidden = False
    for row in payload["rows"][1:]:
        if "n@0" in row["suppressed"]:
            seen_hidden = True
        elif seen_hidden:
            assert not row["values"]["n@0"], f"hidden topic ranked above {row['label']}"


@pytest.mark.parametrize("seed", [11, 12])
def test_the_attacker_recovers_no_hidden_cell(client, db, seed):
    org = make_org(make_district("Kreis Geheim"), municipalities=3, providers=3)
    random_records(org, random.Random(seed), 2023, 90)
    client.force_login(org.coordination)
    attacker, hidden, below = Attacker(K), set(), set()
    downloads = 0
    for report_id in SUPPRESSIBLE:
        for year in (2022, 2023):
            base = {"year": year, "format": "json", "top": 50, "reference_date": f"{year}-06-30",
                    "unit": "cases" if report_id == "R2 cases" else "mentions"}
            tables = {}
            filters = [("all", {})]
            if not get_report(report_id.split()[0]).per_provider_for_aggregate_readers:  # R10: per provider only
                filters += [(f"m{m.pk}", {"municipality": m.pk}) for m in org.municipalities]
            filters += [(f"p{p.pk}", {"provider": p.pk}) for p in org.providers]
            for name, extra in filters:
                response = client.get(reverse("reports:report", args=[report_id.split()[0]]), {**base, **extra})
                assert response.status_code == 200, response.content[:300]
                downloads += 1
                payload = json.loads(response.content)
                tag = (report_id, year, name)
                tables[name] = (tag, *load_table(attacker, tag, payload, hidden, below))
            # Two tables differing by one filter: district = sum of providers >= sum of towns.
            all_tag, rows, columns = tables["all"]
            for prefix, relation in (("p", attacker.equalities), ("m", attacker.at_least)):
                members = [tables[n][0] for n in tables if n.startswith(prefix)]
                for row in rows:
                    for column in columns:
                        parts = [(t, row, column) for t in members if (t, row, column) in attacker.bounds]
                        if len(parts) == len(members):
                            relation.append(((all_tag, row, column), parts))
    # R10 counts what R3 counts (active case-management cases on the reference date).
    for year in (2022, 2023):
        for name in ["all"] + [f"p{p.pk}" for p in org.providers]:
            attacker.equalities.append((((("R3", year, name)), "total", "n@0"), [(("R10", year, name), "total", "n@0")]))
        for provider in org.providers:
            attacker.equalities.append(((("R3", year, f"p{provider.pk}"), "total", "n@0"),
                                        [(("R10", year, "all"), f"p:{provider.pk}", "n@0")]))
    attacker.propagate()
    # A hidden cell worked out as zero reveals no small count; any other value worked out is
    # a failure, small or not.
    recovered = sorted(key for key in hidden if attacker.bounds[key][0] == attacker.bounds[key][1] != 0)
    assert hidden, "the data should produce small counts, or the test proves nothing"
    per_provider = sum(1 for r in SUPPRESSIBLE if get_report(r.split()[0]).per_provider_for_aggregate_readers)
    assert downloads == (len(SUPPRESSIBLE) * 7 - per_provider * 3) * 2  # all, 3 towns, 3 providers; each year
    details = [(key, attacker.bounds[key]) for key in recovered[:4]]
    assert recovered == [], f"the attacker worked out {len(recovered)} hidden cells, e.g. {details}"
    # "< k" means 0 to k-1: no small count is narrowed to less than half of that, to "at most 1"
    # (second attack, R15), except to an exact zero, which hides nothing.
    narrowed = sorted(key for key in below if 0 < attacker.bounds[key][1] < (K - 1) / 2)
    details = [(key, attacker.bounds[key]) for key in narrowed[:4]]
    assert narrowed == [], f"the attacker narrowed {len(narrowed)} small counts, e.g. {details}"


def test_the_owner_of_the_data_sees_small_counts(client, db):
    org = make_org(make_district("Kreis Offen"))
    random_records(org, random.Random(3), 2023, 40)
    lead = org.leads[org.providers[0].pk]
    client.force_login(lead)
    payload = json.loads(client.get(reverse("reports:report", args=["R3"]), {"format": "json"}).content)
    assert payload["suppression"]["applied"] is False
    assert all(row["suppressed"] == [] for row in payload["rows"])
    values = defaultdict(int)
    for row in payload["rows"]:
        values[row["level"]] += row["values"]["n@0"] or 0
    assert values[0] == values[1]  # the total is the sum of the target groups
