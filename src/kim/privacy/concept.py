"""docs/loeschkonzept.md and docs/verarbeitungsverzeichnis.md, written from the registry
(`kim privacy-docs`; tests/test_privacy_docs.py fails when the files in the repository differ
from what the registry says), so that the documents cannot drift from what the job does."""

from pathlib import Path

from django.apps import apps
from django.utils import translation

from .registry import ACTIONS, CLASSES, EVENTS, KEEP, REGISTRY

GENERATED = ("<!-- Erzeugt aus src/kim/privacy/registry.py mit `kim privacy-docs`; nicht von Hand ändern. -->\n")

# The processing activities of the record (Art. 30 GDPR) and the models each one uses.
ACTIVITIES = [
    {
        "title": "Case Management und Beratung (Modul 2)",
        "controller": "der Anstellungsträger der Case Manager*innen (Wohlfahrtsverband, Kommune oder Kreis), "
                      "jeder für die Teilnehmenden seiner Fachkräfte",
        "persons": "Teilnehmende mit Einwanderungsgeschichte, Angehörige ihres Haushalts; Fachkräfte des Trägers",
        "purposes": "Beratung und Begleitung im Case Management (Assessment, Hilfeplan, Ziele, Verweise, Termine); "
                    "Nachweis der Einwilligungen; anonyme Zählung für die Berichte des Kreises",
        "bases": "Einwilligung (Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO; bei kirchlichen Trägern § 6 "
                 "Abs. 1 lit. b KDG bzw. § 6 Nr. 2 DSG-EKD) und Schweigepflichtentbindung je Partner; § 9 TIntG NRW "
                 "(Kommunales Integrationsmanagement); wo ein öffentlicher Träger Sozialdaten verarbeitet, "
                 "Art. 6 Abs. 1 lit. e DSGVO mit §§ 67 ff. SGB X",
        "recipients": "innerhalb des Trägers die zuständigen Fachkräfte und die Leitung; Partner nur mit "
                      "Schweigepflichtentbindung und nur die freigegebenen Angaben (Verweis, Übergabe); "
                      "Koordination, Lenkungsgruppe und Land ausschließlich Summen mit Geheimhaltung kleiner Zahlen",
        "models": ["casework.participant", "casework.household", "casework.consent", "casework.case",
                   "casework.assessment", "casework.assessmentitem", "casework.goal", "casework.planaction",
                   "casework.referral", "casework.appointment", "casework.appointmenttopic", "privacy.erasure", "privacy.transfer"],
    },
    {
        "title": "Verfahren der Ausländer- und Einbürgerungsbehörde (Modul 3)",
        "controller": "der Kreis bzw. die Stadt als Ausländer- und Einbürgerungsbehörde",
        "persons": "Antragstellende in Einbürgerungs- und Aufenthaltsverfahren",
        "purposes": "Zählung von Eingang, Dauer und Ergebnis der Verfahren (Bericht R13, §104c-Übergänge); "
                    "Verknüpfung mit einem KIM-Fall nur mit Schweigepflichtentbindung",
        "bases": "Art. 6 Abs. 1 lit. e DSGVO mit § 86 AufenthG bzw. § 31 StAG; für die Verknüpfung die Einwilligung",
        "recipients": "nur die Beschäftigten der Behörde; Koordination und Lenkungsgruppe Summen",
        "models": ["residence.procedure", "residence.office"],
    },
    {
        "title": "Import und Export von Tabellen",
        "controller": "der Träger, der die Datei hochlädt oder herunterlädt",
        "persons": "wie Case Management",
        "purposes": "Übernahme bisheriger Excel-Listen; Herausgabe der eigenen Daten",
        "bases": "wie Case Management",
        "recipients": "keine",
        "models": ["exchange.importrun", "exchange.importedrecord", "exchange.importmapping"],
    },
    {
        "title": "Protokoll, Anmeldung und Zugänge",
        "controller": "der Träger für das Protokoll seiner Datensätze; der Kreis als Betreiber für Anmeldung "
                      "und Zugänge",
        "persons": "Beschäftigte mit Zugang; mittelbar die Teilnehmenden, deren Datensätze geöffnet wurden",
        "purposes": "Nachweis, wer personenbezogene Daten gelesen oder geändert hat (Art. 5 Abs. 2, Art. 32 "
                    "DSGVO); Schutz vor unbefugter Anmeldung",
        "bases": "Art. 6 Abs. 1 lit. c und e DSGVO mit Art. 32 DSGVO; für Beschäftigte § 26 BDSG bzw. § 18 DSG NRW",
        "recipients": "Leitung des Trägers (Protokoll des Trägers); Verwaltung des Kreises (Organisationsdaten)",
        "models": ["core.auditentry", "sessions.session", "axes.accessattempt", "axes.accessfailurelog",
                   "axes.accesslog", "axes.accessattemptexpiration", "api.apitoken", "otp_totp.totpdevice", "core.user",
                   "identity.directoryaccount", "casework.deputygrant", "admin.logentry",
                   "django_tasks_database.dbtaskresult"],
    },
    {
        "title": "Stellen, Förderung und Systemebene (Modul 1)",
        "controller": "der Kreis (Koordinierungsstelle)",
        "persons": "Fachkräfte (Besetzung der Stellen), Mitglieder der Lenkungsgruppe",
        "purposes": "Verwendungsnachweis der Förderung (R8, R9); Steuerung im Kreis",
        "bases": "Art. 6 Abs. 1 lit. e DSGVO mit dem Förderrecht (Richtlinie KIM, §§ 23, 44 LHO NRW); für "
                 "Beschäftigte § 26 BDSG bzw. § 18 DSG NRW",
        "recipients": "Bewilligungsbehörde im Verwendungsnachweis (Summen und Stellen)",
        "models": ["staffing.filling", "system.steeringmember", "system.service"],
    },
]

MEASURES = [
    "Jede Abfrage personenbezogener Daten geht durch eine Bereichsfunktion je Modell (`visible_to`): eine "
    "vergessene Einschränkung schlägt fehl, statt Daten zu zeigen.",
    "Rollen und Rechte in einer Tabelle (`kim.core.permissions`); nur Case Manager*innen und Leitungen des "
    "Trägers sehen personenbezogene Daten, und nur die des eigenen Trägers.",
    "Geheimhaltung kleiner Zahlen für alle Leser*innen außerhalb des Trägers (docs/geheimhaltung.md).",
    "Protokoll jeder Änderung und jedes Lesezugriffs; die Datenbank verweigert Änderungen und Löschungen des "
    "Protokolls, bis auf die einmalige Schwärzung personenbezogener Werte.",
    "Zweiter Faktor (TOTP), Sperre nach Fehlversuchen, sichere Sitzungen; TLS über nginx (docs/betrieb.md).",
    "Namensfilter für Freitexte der Systemebene, Prüfung hochgeladener Dateien (Makros, Verweise).",
    "Löschfristen je Feld (dieses Verzeichnis, docs/loeschkonzept.md), täglich angewandt; Löschung auf "
    "Verlangen mit Prüffrist; Einschränkung der Verarbeitung; Liste gelöschter Schlüssel außerhalb der "
    "Datenbank für die Wiederherstellung einer Sicherung.",
]


# Fields and models that carry no German name of their own (Django's default is the English name).
PLAIN_NAMES = {"district": "Kreis", "provider": "Träger", "participant": "Teilnehmende*r", "case": "Fall",
               "assessment": "Assessment", "previous": "vorheriges Assessment", "author": "verfasst von",
               "assessment items": "Lebensbereiche eines Assessments", "id": "Nummer"}


def _verbose(label: str) -> tuple[str, dict]:
    model = apps.get_model(label)
    names = {}
    for field in model._meta.get_fields():
        if getattr(field, "verbose_name", None) is not None:
            name = str(field.verbose_name)
            names[field.name] = PLAIN_NAMES.get(name, name)
    plural = str(model._meta.verbose_name_plural)
    return PLAIN_NAMES.get(plural, plural), names


def _periods_table() -> list[str]:
    lines = ["| Löschklasse | Beginn der Frist | Frist (Standard) | vom Kreis einstellbar | automatisch |",
             "|---|---|---|---|---|"]
    for c in CLASSES.values():
        lines.append(f"| {c.title} | {EVENTS[c.event]} | {c.period_text} | {c.bounds_text} | "
                     f"{'ja' if c.automatic else 'nein'} |")
    return lines


def loeschkonzept() -> str:
    with translation.override("de"):
        out = [GENERATED, "# Löschkonzept der KIM-Fachdatenbank", "",
               "Für Datenschutzbeauftragte der Träger und des Kreises, für die Verwaltung und den Betrieb. "
               "Aufgebaut nach DIN 66398: Die Daten sind in **Löschklassen** gruppiert; eine Löschklasse ist "
               "eine Frist und das Ereignis, ab dem sie zählt. Für **jedes Feld jedes Datenmodells** legt die "
               "Registry fest, was bei Fälligkeit mit ihm geschieht; ein Test schlägt fehl, wenn ein Feld keine "
               "Regel hat.", "",
               "## Grundsatz: Anonymisieren, nicht Zahlen verändern", "",
               "Abgeschlossene Fälle verlieren nach der Frist alles, was eine Person erkennbar macht: Namen, "
               "Kontaktdaten, Anschrift, Freitexte, Kennungen aus Dateien und die Teilnehmenden-Kennung (sie "
               "wird durch eine neue, nicht rückführbare ersetzt). Das Geburtsdatum wird auf den ersten Tag "
               "seines Quartals vergröbert. Was die Berichte zählen (Fallart, Daten, Kommune, Zielgruppe, "
               "Zugangsweg, Themen, Ziele und ihr Status, Staatsangehörigkeit, Sprachen) bleibt als anonyme "
               "statistische Spur. Deshalb ändert sich kein Bericht eines vergangenen Zeitraums, für keine "
               "Leser*in; ein Test vergleicht alle Berichte vor und nach der Anonymisierung.", "",
               "## Löschklassen", "", *_periods_table(), "",
               "Die Fristen stellt die Verwaltung des Kreises unter *Datenschutz* ein, innerhalb der "
               "genannten Grenzen. Fälle im Case Management und kürzere Kontakte zählen ab dem Ende des "
               "Jahres, in dem der Fall abgeschlossen wurde: ein 2022 abgeschlossener Fall wird mit der "
               "Standardfrist von 36 Monaten am 1. Januar 2026 anonymisiert.", ""]
        for c in CLASSES.values():
            out += [f"### {c.title}", "", c.description, ""]
        out += ["## Umsetzung", "",
                "- `kim retention` wendet die Fristen an; der Hintergrunddienst (`kim worker`) tut es einmal "
                "täglich. `--dry-run` zählt je Löschklasse, was fällig ist, ohne etwas zu ändern; `--as-of "
                "TT.MM.JJJJ` rechnet zu einem anderen Stichtag (in der Zukunft nur als Probelauf: was "
                "noch nicht fällig ist, wird nie vorzeitig anonymisiert), `--district KURZNAME` für einen Kreis. "
                "Ein Kreis hat nie zwei Läufe zugleich.",
                "- Jeder Fall wird in einer eigenen Transaktion anonymisiert, mit einem Protokolleintrag ohne "
                "personenbezogene Werte; ein abgebrochener Lauf hinterlässt nichts halb Anonymisiertes und der "
                "nächste macht weiter. Jeder Lauf wird mit Anzahlen je Löschklasse protokolliert.",
                "- **Löschung auf Verlangen (Art. 17 DSGVO):** Die Leitung des Trägers beantragt sie auf der "
                "Seite der Person, mit Grund und der Kennung als Bestätigung. Der Datensatz ist sofort gesperrt; "
                "nach 90 Tagen Prüffrist wird er überall gelöscht (alle Fälle, die Person, Kennungen aus "
                "Dateien, noch gespeicherte Dateien, personenbezogene Werte im Protokoll), wenn der Antrag "
                "nicht zurückgenommen wurde. Die Protokolleinträge bleiben und zeigen auf „gelöschte Person“.",
                "- **Einschränkung der Verarbeitung (Art. 18 DSGVO):** ein gesperrter Datensatz wird gezeigt, "
                "aber weder geändert noch exportiert, bis die Leitung die Sperre aufhebt.",
                "- **Wiederherstellung einer Sicherung:** Jede Anonymisierung und Löschung schreibt den "
                "Schlüssel (Kreis, Art des Datensatzes, Nummer, Löschklasse; keine personenbezogenen Daten) in "
                "die Liste `KIM_PRIVACY_LOG` außerhalb der Datenbank, bevor die Transaktion abschließt. Nach "
                "dem Einspielen einer Sicherung stellt `kim retention replay` den Stand wieder her: wer "
                "gelöscht war, ist wieder gelöscht, und eine in der Sicherung noch offene Löschung wird "
                "ausgeführt (`--dry-run` zählt nur; unlesbare Zeilen werden übersprungen und genannt). Die "
                "Liste gehört nicht in dieselbe Sicherung wie die Datenbank.",
                "- **Was nach einer Anonymisierung niemand mehr tut:** Seiten, Formulare, API und Import "
                "verweigern jede Änderung einer statistischen Spur; ihre Seiten sagen nur, dass und wann "
                "anonymisiert wurde (Status 410), ohne Kennung und Fallnummer.", "",
                "## Regeln je Feld", "",
                "„bleibt“ heißt bei Feldern der Fallarbeit: Teil der anonymen statistischen Spur.", ""]
        for label, rules in REGISTRY.items():
            if all(rule.action == KEEP and rule.deletion_class == "aggregate" for rule in rules.values()):
                continue
            title, names = _verbose(label)
            out += [f"### {title} (`{label}`)", "", "| Feld | Löschklasse | bei Fälligkeit | Begründung |",
                    "|---|---|---|---|"]
            for name, rule in rules.items():
                out.append(f"| {names.get(name, name)} (`{name}`) | {CLASSES[rule.deletion_class].title} | "
                           f"{ACTIONS[rule.action]} | {rule.why} |")
            out.append("")
        plain = [f"`{label}`" for label, rules in REGISTRY.items()
                 if all(rule.action == KEEP and rule.deletion_class == "aggregate" for rule in rules.values())]
        out += ["### Ohne personenbezogene Daten", "",
                "Diese Modelle enthalten keine Angaben zu Teilnehmenden (Kataloge, Organisation, Stichtage, "
                "Berichte, Systemebene, Stellen und Sätze); ihre Felder bleiben, jedes einzeln in der Registry "
                "benannt: " + ", ".join(plain) + ".", ""]
    return "\n".join(out)


def verarbeitungsverzeichnis() -> str:
    with translation.override("de"):
        out = [GENERATED, "# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)", "",
               "Vorlage für die Verantwortlichen, erzeugt aus der Registry der Löschfristen. Jeder Träger führt "
               "sein eigenes Verzeichnis (bei kirchlichen Trägern nach § 31 KDG bzw. § 31 DSG-EKD) und ergänzt "
               "Name, Anschrift und Datenschutzbeauftragte*n.", "",
               "## Verantwortliche und gemeinsame Verantwortung", "",
               "- **Träger** (Anstellungsträger der Case Manager*innen) sind je für die Daten ihrer "
               "Teilnehmenden verantwortlich. Niemand außerhalb des Trägers sieht sie, auch die Koordination "
               "nicht, außer mit Schweigepflichtentbindung für genau diese Weitergabe.",
               "- **Der Kreis** ist verantwortlich für die Koordination, die Systemebene (Modul 1), Stellen "
               "und Förderung, Modul 3 als Ausländer- und Einbürgerungsbehörde und als Betreiber der "
               "Anwendung; als Auftragsverarbeiter der Träger (Art. 28 DSGVO), soweit er sie für sie betreibt.",
               "- **Gemeinsame Verantwortung (Art. 26 DSGVO):** Das Land NRW und die Kreise sind für Steuerung "
               "und Evaluation (§ 20 TIntG) gemeinsam verantwortlich; dafür verlassen nur Summen mit "
               "Geheimhaltung kleiner Zahlen den Kreis, keine personenbezogenen Zeilen. Ob Kreis und Träger "
               "für die gemeinsam genutzte Anwendung gemeinsam verantwortlich sind oder der Kreis "
               "Auftragsverarbeiter ist, ist vor Ort zu entscheiden und in einer Vereinbarung festzuhalten; "
               "diese Vorlage nennt die Frage, sie beantwortet sie nicht.", ""]
        for number, activity in enumerate(ACTIVITIES, start=1):
            out += [f"## {number}. {activity['title']}", "",
                    f"- **Verantwortlich:** {activity['controller']}",
                    f"- **Betroffene Personen:** {activity['persons']}",
                    f"- **Zwecke:** {activity['purposes']}",
                    f"- **Rechtsgrundlagen:** {activity['bases']}",
                    f"- **Empfänger:** {activity['recipients']}",
                    "- **Übermittlung in Drittländer:** keine", "",
                    "| Daten | Kategorie der Angaben | Löschklasse | Frist |", "|---|---|---|---|"]
            for label in activity["models"]:
                title, names = _verbose(label)
                by_class: dict[str, list[str]] = {}
                for name, rule in REGISTRY[label].items():
                    by_class.setdefault(rule.deletion_class, []).append(names.get(name, name))
                for key, fields in by_class.items():
                    c = CLASSES[key]
                    out.append(f"| {title} | {', '.join(fields)} | {c.title} | {c.period_text}, ab "
                               f"{EVENTS[c.event]} |")
            out.append("")
        out += ["## Technische und organisatorische Maßnahmen (Art. 32 DSGVO)", "",
                *[f"- {measure}" for measure in MEASURES], "",
                "Löschfristen im Einzelnen: docs/loeschkonzept.md.", ""]
    return "\n".join(out)


def write(directory: Path) -> list[Path]:
    written = []
    for name, text in (("loeschkonzept.md", loeschkonzept()), ("verarbeitungsverzeichnis.md",
                                                                verarbeitungsverzeichnis())):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
