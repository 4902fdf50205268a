"""The empty standard workbook: German headers, a sheet explaining each column, and dropdown
lists filled from the district's catalogues and the fixed value lists. Case managers and
leads get the sheets of case data, coordination the sheet "Stellen" (each the parts they may
import)."""

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kim.core.cells import neutralise

from .workbook import CASE_SHEETS, CATALOGUES, SHEETS, SPECS, fixed_lists

ROWS_WITH_DROPDOWNS = 5000

HELP = {
    "Kennung": "Ihre Kennung der Person (z. B. aus der bisherigen Excel-Datei); verbindet Fälle mit Personen.",
    "Fall-Kennung": "Ihre Kennung des Falls; Assessments, Ziele, Maßnahmen, Verweise und Termine verweisen darauf.",
    "Teilnehmende-Kennung": "Kennung der Person aus dem Blatt „Teilnehmende“.",
    "Haushalt-Kennung": "Ihre Kennung des Haushalts (freiwillig); ohne sie werden Haushalte am Namen erkannt.",
    "Einwilligungs-Kennung": "Ihre Kennung der Einwilligung (freiwillig); damit ändert eine spätere Datei diese Einwilligung.",
    "Assessment-Kennung": "Ihre Kennung des Assessments; das Blatt „Lebensbereiche“ verweist darauf.",
    "vorheriges Assessment": "Bei einem Re-Assessment: die Kennung des Assessments, mit dem es verglichen wird.",
    "Ziel-Kennung": "Ihre Kennung des Ziels (freiwillig); Maßnahmen verweisen darauf, und eine spätere Datei ändert "
                    "damit dieses Ziel.",
    "Maßnahmen-Kennung": "Ihre Kennung der Maßnahme (freiwillig).",
    "Verweis-Kennung": "Ihre Kennung des Verweises (freiwillig).",
    "Termin-Kennung": "Ihre Kennung des Termins (freiwillig); damit ändert eine spätere Datei diesen Termin.",
    "Themen": "Mehrere Themen mit Semikolon trennen, z. B. „Wohnen; Gesundheit“.",
    "Sprachmittlung": "Mehrere Angaben mit Semikolon trennen.",
    "Schweigepflichtentbindung für": "Stellen, gegenüber denen die Person von der Schweigepflicht entbindet; "
                                     "mehrere mit Semikolon trennen.",
    "Geburtsdatum": "Datum als TT.MM.JJJJ (oder Excel-Datum).",
    "Verantwortlich": "Name der Fachkraft Ihres Trägers; leer: die beim Hochladen gewählte.",
    "Case Manager*in": "Name der Fachkraft Ihres Trägers; leer: die beim Hochladen gewählte.",
    "verfasst von": "Name der Fachkraft Ihres Trägers; leer: die Fachkraft des Falls.",
    "Stellen-Kennung": "Ihre Kennung der Stelle (freiwillig); damit ändert eine spätere Datei diese Stelle. Ohne "
                       "Kennung wird eine Stelle an Funktion, Kommune, Träger und Bezeichnung wiedererkannt.",
    "Modul": "Modul 1, 2 oder 3 (auch „1“); muss zur Funktion passen. Leer: das Modul der Funktion.",
    "Funktion": "Modul 1: Koordination, Verwaltungsassistenz; Modul 2: Case Management, Thematisches Case "
                "Management, Koordination Case Management; Modul 3: Ausländerbehörde, Einbürgerungsbehörde.",
    "Bezeichnung": "Freiwillig, z. B. „MuKi-S“ oder „Sachgebietsleitung“.",
    "Träger": "Anstellungsträger; leer, „Kreisverwaltung“ oder der Name des Kreises: die Kreisverwaltung.",
    "VZÄ bewilligt": "Vollzeitäquivalente der Bewilligung, z. B. 0,5 oder 14,00.",
    "VZÄ besetzt": "Am Stichtag besetzte VZÄ (leer: 0); mit „noch nicht besetzt“ höchstens so viel wie bewilligt.",
    "VZÄ noch nicht besetzt": "Am Stichtag ausgeschriebene, noch nicht besetzte VZÄ (leer: 0). Der Rest der "
                              "Bewilligung ist noch nicht eingerichtet oder ausgeschrieben.",
    "Stichtag": "Der Tag, an dem die Zahlen der Zeile gelten, z. B. 31.12.2022.",
    "bewilligt ab": "Leer: der 1. Januar des Jahres des Stichtags.",
    "bewilligt bis": "Leer: ohne Ende.",
    "besetzt ab": "Leer: ab Beginn der Bewilligung.",
    "Weiterleitung an": "Träger oder Kommune (als Träger erfasst), an die die Mittel der Stelle weitergeleitet werden.",
    "Person": "Wer die besetzten VZÄ innehat (freiwillig): Name oder Benutzername eines Kontos des Kreises, "
              "sonst als Name ohne Konto gespeichert. Mehrere Personen auf einer Stelle: eine Zeile je Person.",
}


def catalogue_lists(kinds=CASE_SHEETS, district=None) -> dict:
    """Dropdown values by (sheet, header): the fixed lists and the active entries of the
    district's catalogues (staff are named freely)."""
    from .mapping import staffing_lists

    fixed = fixed_lists()
    staffing = staffing_lists(district) if district is not None else {}
    lists = {}
    for sheet_name in kinds:
        for column in SPECS[sheet_name]:
            if column.values in staffing:
                lists[(sheet_name, column.header)] = staffing[column.values].labels
            elif column.values in fixed:
                lists[(sheet_name, column.header)] = list(fixed[column.values].values())
            elif column.values in CATALOGUES:
                model, field = CATALOGUES[column.values]
                lists[(sheet_name, column.header)] = list(model.objects.filter(active=True).values_list(field, flat=True))
    return lists


def template_bytes(kinds=CASE_SHEETS, district=None) -> bytes:
    """The workbook with the sheets `kinds` (case data by default); `district` fills the lists
    of towns and employers of the sheet "Stellen"."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    lists = workbook.create_sheet("Wertelisten")
    dropdowns = catalogue_lists(kinds, district)
    list_ranges = {}
    for column_index, ((sheet_name, header), values) in enumerate(dropdowns.items(), start=1):
        letter = get_column_letter(column_index)
        lists.cell(1, column_index, f"{sheet_name}: {header}").font = Font(bold=True)
        for row_index, value in enumerate(values, start=2):
            lists.cell(row_index, column_index, neutralise(value))  # a label is never run as a formula
        list_ranges[(sheet_name, header)] = f"Wertelisten!${letter}$2:${letter}${max(2, len(values) + 1)}"
    for sheet_name in kinds:
        headers = SHEETS[sheet_name]
        sheet = workbook.create_sheet(sheet_name, index=len(workbook.sheetnames) - 1)
        sheet.append(headers)
        sheet.freeze_panes = "A2"
        for column_index, header in enumerate(headers, start=1):
            cell = sheet.cell(1, column_index)
            cell.font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(column_index)].width = max(14, len(header) + 4)
            source = list_ranges.get((sheet_name, header))
            if source and not _several(sheet_name, header):  # a dropdown would refuse several values
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
    for sheet_name in kinds:
        for header in SHEETS[sheet_name]:
            hint = HELP.get(header, "Auswahl aus der Liste." if (sheet_name, header) in dropdowns else "")
            guide.append([sheet_name, header, hint])
    guide.column_dimensions["C"].width = 90
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 28
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _several(sheet_name, header) -> bool:
    return next(column.kind == "list" for column in SPECS[sheet_name] if column.header == header)
