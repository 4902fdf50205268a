"""The plan of an import: what the check found, the only thing passed from one step to the next.

Mapping turns cells into values and notes problems of cells; the check adds problems of rows
and finds, for every record, the existing one it updates; the writer writes the plan as it is,
without looking anything up."""

from collections import defaultdict
from dataclasses import dataclass, field

MAX_LISTED_PROBLEMS = 500


@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self):
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}

    def __str__(self):
        where = f"{self.sheet}, Zeile {self.row}" + (f", Spalte „{self.column}“" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Record:
    """A record read from one row: its values, where it came from, and what it matched.

    `existing` is the record it updates (None: a new record); `key` what the row refers to
    (for a case: the person's record of this file and the existing person; for goals and
    appointments: the Fall-Kennung); `extra` what else the check found for the writer."""

    number: int
    values: dict
    existing: object = None
    key: object = None
    extra: dict = field(default_factory=dict)


@dataclass
class Plan:
    problems: list = field(default_factory=list)
    problem_count: int = 0
    unknown: dict = field(default_factory=dict)  # {(list name, value): (column, count, suggestion)}
    records: dict = field(default_factory=lambda: defaultdict(list))
    summary: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)  # {("key", Haushalt-Kennung) or ("name", name): household or None}
    sheet_names: dict = field(default_factory=dict)  # {part of the workbook: the file's sheet}
    # [{"row", "code", "column", "before", "after"}]: name or birth date of a person on record
    # that the file changes (the first MAX_LISTED_PROBLEMS)
    identity_changes: list = field(default_factory=list)

    def add(self, sheet, row, column, message):
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(sheet, row, column, message))

    def note_unknown(self, list_name, value, column, suggestion):
        column, count, _ = self.unknown.get((list_name, value), (column, 0, suggestion))
        self.unknown[(list_name, value)] = (column, count + 1, suggestion)

    @property
    def ok(self):
        return self.problem_count == 0
