"""The empty standard workbook for case managers: German headers, a sheet explaining each
column, and dropdown lists filled from the district's catalogues and the fixed value lists."""

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kim.core.models import Municipality, ReferralSource, ReferralTarget, TargetGroup, Topic
from kim.core.models import ClosureReason, GoalCategory, LanguageSupportKind

from .workbook import SHEETS, value_lists

ROWS_WITH_DROPDOWNS = 5000

HELP = {
    "Kennung": "Ihre Kennung der Person (z. B. aus der bisherigen Excel-Datei); verbindet Fälle mit Personen.",
    "Fall-Kennung": "Ihre Kennung des Falls; Ziele und Termine verweisen darauf.",
    "Ziel-Kennung": "Ihre Kennung des Ziels (freiwillig); damit ändert eine spätere Datei dieses Ziel.",
    "Termin-Kennung": "Ihre Kennung des Termins (freiwillig); damit ändert eine spätere Datei diesen Termin.",
    "Teilnehmende-Kennung": "Kennung der Person aus dem Blatt „Teilnehmende“.",
    "Themen": "Mehrere Themen mit Semikolon trennen, z. B. „Wohnen; Gesundheit“.",
    "Sprachmittlung": "Mehrere Angaben mit Semikolon trennen.",
    "Geburtsdatum": "Datum als TT.MM.JJJJ (oder Excel-Datum).",
}


def catalogue_lists() -> dict:
    """Dropdown values by header: the active entries of the district's catalogues."""
    def labels(model, field="label"):
        return list(model.objects.filter(active=True).values_list(field, flat=True))

    fixed = value_lists()
    return {
        ("Teilnehmende", "Geschlecht"): list(fixed["Geschlecht"].values()),
        ("Teilnehmende", "Kommune"): list(Municipality.objects.filter(active=True).values_list("name", flat=True)),
        ("Teilnehmende", "Aufenthaltsstatus"): list(fixed["Aufenthaltsstatus"].values()),
        ("Fälle", "Art"): list(fixed["Art (Fall)"].values()),
        ("Fälle", "Zielgruppe"): labels(TargetGroup),
        ("Fälle", "Zugangsweg"): labels(ReferralSource),
        ("Fälle", "Kommune"): list(Municipality.objects.filter(active=True).values_list("name", flat=True)),
        ("Fälle", "Phase"): list(fixed["Phase"].values()),
        ("Fälle", "Abschlussgrund"): labels(ClosureReason),
        ("Fälle", "Verwiesen an"): labels(ReferralTarget),
        ("Ziele", "Zielkategorie"): labels(GoalCategory),
        ("Ziele", "Status"): list(fixed["Status"].values()),
        ("Termine", "Art"): list(fixed["Art (Termin)"].values()),
        ("Termine", "komplex"): ["ja", "nein"],
        ("Termine", "Themen"): labels(Topic),
        ("Termine", "Sprachmittlung"): labels(LanguageSupportKind),
    }


def template_bytes() -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    lists = workbook.create_sheet("Wertelisten")
    dropdowns = catalogue_lists()
    list_ranges = {}
    for column_index, ((sheet_name, header), values) in enumerate(dropdowns.items(), start=1):
        letter = get_column_letter(column_index)
        lists.cell(1, column_index, f"{sheet_name}: {header}").font = Font(bold=True)
        for row_index, value in enumerate(values, start=2):
            lists.cell(row_index, column_index, value)
        list_ranges[(sheet_name, header)] = f"Wertelisten!${letter}$2:${letter}${max(2, len(values) + 1)}"
    for sheet_name, headers in SHEETS.items():
        sheet = workbook.create_sheet(sheet_name, index=len(workbook.sheetnames) - 1)
        sheet.append(headers)
        sheet.freeze_panes = "A2"
        for column_index, header in enumerate(headers, start=1):
            cell = sheet.cell(1, column_index)
            cell.font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(column_index)].width = max(14, len(header) + 4)
            source = list_ranges.get((sheet_name, header))
            if source and header not in ("Themen", "Sprachmittlung"):  # lists allow several values
                validation = DataValidation(type="list", formula1=f"={source}", allow_blank=True)
                validation.error = "Bitte einen Wert aus der Liste wählen."
                validation.errorTitle = "Unbekannter Wert"
                sheet.add_data_validation(validation)
                letter = get_column_letter(column_index)
                validation.add(f"{letter}2:{letter}{ROWS_WITH_DROPDOWNS}")
    guide = workbook.create_sheet("Hinweise", index=0)
    guide.append(["Blatt", "Spalte", "Hinweis"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for sheet_name, headers in SHEETS.items():
        for header in headers:
            hint = HELP.get(header, "Auswahl aus der Liste." if (sheet_name, header) in dropdowns else "")
            guide.append([sheet_name, header, hint])
    guide.column_dimensions["C"].width = 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
