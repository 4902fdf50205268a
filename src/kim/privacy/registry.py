"""The retention registry: for every field of every model, what happens to it and when.

Fields are grouped in deletion classes in the sense of DIN 66398: a class is a period and
the event it is counted from (a case closed, a consent withdrawn, an upload). A rule says
what becomes of one field when its class is due: it stays (the statistical trace), it is
emptied, coarsened or replaced, or the row goes. tests/test_privacy_registry.py fails when a
model field has no rule, so that retention cannot be forgotten for a field added later;
docs/loeschkonzept.md and docs/verarbeitungsverzeichnis.md are generated from here
(`kim privacy-docs`), so that they cannot drift from what the retention job does."""

from dataclasses import dataclass

# ---------------------------------------------------------------- what happens to a field

KEEP = "keep"            # stays: the statistical trace, or no personal data
EMPTY = "empty"          # emptied (free texts, names, contact data)
COARSEN = "coarsen"      # the birth date becomes the first day of its quarter
REPLACE = "replace"      # replaced by a new value that joins back to nothing (a new code)
UNLINK = "unlink"        # the link to the person is cut
DELETE = "delete"        # the row is deleted
REDACT = "redact"        # an audit entry's label and changed values are blackened

ACTIONS = {
    KEEP: "bleibt",
    EMPTY: "wird geleert",
    COARSEN: "wird vergröbert (erster Tag des Quartals)",
    REPLACE: "wird durch einen neuen, nicht rückführbaren Wert ersetzt",
    UNLINK: "Verknüpfung zur Person wird gelöst",
    DELETE: "Datensatz wird gelöscht",
    REDACT: "Bezeichnung und geänderte Werte werden geschwärzt",
}

# ---------------------------------------------------------------- events a period starts at

EVENTS = {
    "case_year_end": "Ende des Kalenderjahres, in dem der Fall abgeschlossen wurde",
    "consent_withdrawn": "Widerruf der Einwilligung in die Verarbeitung",
    "decision_year_end": "Ende des Kalenderjahres, in dem das Verfahren entschieden wurde",
    "upload": "Hochladen der Datei",
    "entry": "Entstehen des Eintrags",
    "expiry": "Ablauf oder Widerruf",
    "record": "Anonymisierung oder Löschung des Datensatzes, zu dem der Eintrag gehört",
    "erasure_request": "Antrag auf Löschung (Art. 17 DSGVO) nach Ablauf der Prüffrist",
    "employment_end": "Ende der Beschäftigung oder Förderung (von der Verwaltung ausgelöst)",
    "none": "kein Ereignis: die Angabe ist nicht personenbezogen",
}


@dataclass(frozen=True)
class DeletionClass:
    key: str
    title: str
    event: str
    unit: str            # "months" or "days"
    default: int | None  # None: no period of its own (follows the record, or no personal data)
    minimum: int | None
    maximum: int | None
    description: str
    automatic: bool = True  # carried out by `kim retention`

    @property
    def event_text(self) -> str:
        return EVENTS[self.event]

    @property
    def period_text(self) -> str:
        return self.format_period(self.default)

    def format_period(self, period: int | None) -> str:
        if period is None:
            return "–"
        unit = {"months": ("Monat", "Monate"), "days": ("Tag", "Tage")}[self.unit]
        return f"{period} {unit[0] if period == 1 else unit[1]}"

    @property
    def bounds_text(self) -> str:
        if self.minimum is None:
            return "nicht einstellbar"
        unit = "Monate" if self.unit == "months" else "Tage"
        return f"{self.minimum} bis {self.maximum} {unit}"


CLASSES = {c.key: c for c in [
    DeletionClass(
        "case_data", "Falldaten des Case Managements", "case_year_end", "months", 36, 12, 120,
        "Namen, Kontaktdaten, Anschrift, Freitexte und Dokumente eines Falls im Case Management werden "
        "anonymisiert; Merkmale, die die Berichte zählen, bleiben als anonyme statistische Spur."),
    DeletionClass(
        "short_counselling", "Kurzberatung, Verweisberatung und Screening", "case_year_end", "months", 12, 0, 60,
        "Kurze Kontakte ohne Hilfeplan: wie Falldaten, mit kürzerer Frist."),
    DeletionClass(
        "consent_withdrawn", "Daten nach Widerruf der Einwilligung", "consent_withdrawn", "months", 1, 0, 6,
        "Hat die Person ihre Einwilligung widerrufen und keine neue erteilt, werden alle ihre Fälle anonymisiert, "
        "auch offene."),
    DeletionClass(
        "erasure", "Löschung auf Verlangen (Art. 17 DSGVO)", "erasure_request", "days", 90, None, None,
        "Die Leitung des Trägers beantragt die Löschung mit Begründung; der Datensatz ist sofort gesperrt und "
        "wird nach 90 Tagen Prüffrist überall entfernt, wenn der Antrag nicht zurückgenommen wird."),
    DeletionClass(
        "module3", "Verfahren der Ausländer- und Einbürgerungsbehörde (Modul 3)", "decision_year_end", "months",
        36, 12, 120,
        "Aktenzeichen und Verknüpfung zur teilnehmenden Person werden entfernt; Art, Daten und Ergebnis des "
        "Verfahrens bleiben für R13."),
    DeletionClass(
        "uploads", "Hochgeladene Dateien (Excel-Import)", "upload", "days", 7, 1, 90,
        "Die Datei selbst wird beim Import gelöscht, eine nicht übernommene Datei nach der Frist des Betriebs "
        "(KIM_UPLOAD_RETENTION_DAYS); was aus ihr gelesen wurde (erste Zeilen, Probleme, unbekannte Werte), "
        "nach dieser Frist."),
    DeletionClass(
        "read_log", "Protokoll der Lesezugriffe", "entry", "months", 24, 12, 60,
        "Wer wann welchen Datensatz geöffnet hat: nach der Frist geschwärzt und gelöscht."),
    DeletionClass(
        "change_log", "Änderungsprotokoll", "record", "months", None, None, None,
        "Einträge über Änderungen bleiben; ihre personenbezogenen Werte werden geschwärzt, sobald der "
        "Datensatz anonymisiert oder gelöscht wird. Der Eintrag zeigt dann auf eine anonyme oder gelöschte Person."),
    DeletionClass(
        "access", "Anmeldung, Sitzungen und Zugangsschlüssel", "expiry", "days", 90, None, None,
        "Fehlgeschlagene Anmeldungen und abgelaufene Sitzungen; widerrufene oder abgelaufene API-Schlüssel. "
        "Sie gehören zu keinem Kreis: die Frist gilt für die ganze Installation."),
    DeletionClass(
        "worker", "Aufträge im Hintergrund", "entry", "days", 30, None, None,
        "Abgeschlossene Aufträge (Import, Berichte, Ausschusspapiere) mit ihren Argumenten; für die ganze "
        "Installation."),
    DeletionClass(
        "staff", "Beschäftigtendaten und Stellen", "employment_end", "months", None, None, None,
        "Konten, Namen und Besetzungen der Fachkräfte: für den Verwendungsnachweis der Förderung "
        "aufbewahrt; gelöscht oder deaktiviert durch die Verwaltung (Konto deaktivieren, Besetzung beenden).",
        automatic=False),
    DeletionClass(
        "aggregate", "Zahlen, Organisation und Systemebene", "none", "months", None, None, None,
        "Keine personenbezogenen Daten: Kataloge, Organisation, Stichtage, Berichte und Zahlen, Steuerungs- und "
        "Systemebene (deren Freitexte prüft der Namensfilter, sie dürfen keine Personen nennen).",
        automatic=False),
]}


@dataclass(frozen=True)
class Rule:
    action: str
    deletion_class: str
    why: str = ""


def _rules(deletion_class: str, action: str, names: str, why: str = "") -> dict[str, Rule]:
    return {name: Rule(action, deletion_class, why) for name in names.split()}


def _model(*parts: dict[str, Rule]) -> dict[str, Rule]:
    merged: dict[str, Rule] = {}
    for part in parts:
        duplicated = merged.keys() & part.keys()
        if duplicated:
            raise ValueError(f"fields with two rules: {sorted(duplicated)}")
        merged.update(part)
    return merged


def _aggregate(names: str, why: str = "organisatorische Angabe, keine Person") -> dict[str, Rule]:
    return _rules("aggregate", KEEP, names, why)


TRACE = "statistische Spur: die Berichte zählen es"
CASE_TEXT = "Freitext, kann Personen nennen"

# The participant's own fields follow the class of the person's cases: they go when the last
# of the person's cases is anonymised (or the person is erased).
PARTICIPANT = _model(
    _rules("case_data", KEEP, "district provider responsible municipality gender nationalities languages "
                              "residence_status created_at anonymised_on", TRACE),
    _rules("case_data", EMPTY, "restricted_on restriction_reason",
           "eine Spur wird ohnehin nicht mehr geändert; der Grund kann die Person beschreiben"),
    _rules("case_data", EMPTY, "first_name last_name phone email address search_text sort_name external_id",
           "identifiziert die Person"),
    _rules("case_data", COARSEN, "birth_date", "Altersauswertungen bleiben möglich"),
    _rules("case_data", COARSEN, "entry_date", "zusammen mit anderen Angaben zu genau; das Quartal genügt"),
    _rules("case_data", REPLACE, "code", "die Kennung steht auf Papieren und in Dateien"),
    _rules("case_data", UNLINK, "household", "der Haushalt verbindet Personen"),
)

REGISTRY: dict[str, dict[str, Rule]] = {
    # ------------------------------------------------------------ case work
    "casework.participant": PARTICIPANT,
    "casework.household": _model(
        _rules("case_data", KEEP, "district provider created_at", TRACE),
        _rules("case_data", EMPTY, "name", "Familienname"),
    ),
    "casework.consent": _model(
        _rules("case_data", KEEP, "participant given_on covers_processing withdrawn_on released_to "
                                  "released_categories document_language document_versions",
               "Nachweis der Rechtsgrundlage, ohne Namen"),
        _rules("case_data", EMPTY, "note", CASE_TEXT),
    ),
    "casework.case": _model(
        _rules("case_data", KEEP, "district provider participant kind phase case_manager municipality target_group "
                                  "referral_source opened_on closed_on closure_reason screening_outcome "
                                  "title_104c_issued_on title_104c_expires_on created_at anonymised_on", TRACE),
        _rules("case_data", EMPTY, "external_id", "Kennung aus einer Datei, führt zur Person zurück"),
    ),
    "casework.assessment": _model(
        _rules("case_data", KEEP, "case kind assessed_on previous author", TRACE),
        _rules("case_data", EMPTY, "summary", CASE_TEXT),
    ),
    "casework.assessmentitem": _model(
        _rules("case_data", KEEP, "assessment life_domain need", TRACE),
        _rules("case_data", EMPTY, "situation resources wishes", CASE_TEXT),
    ),
    "casework.goal": _model(
        _rules("case_data", KEEP, "case category agreed_on due_on status status_changed_on handed_over", TRACE),
        _rules("case_data", EMPTY, "text", CASE_TEXT),
    ),
    "casework.planaction": _model(
        _rules("case_data", KEEP, "case goal due_on done_on", TRACE),
        _rules("case_data", EMPTY, "description responsible", CASE_TEXT),
    ),
    "casework.referral": _model(
        _rules("case_data", KEEP, "case target referred_on", TRACE),
        _rules("case_data", EMPTY, "note", CASE_TEXT),
    ),
    "casework.appointment": _model(
        _rules("case_data", KEEP, "district provider case_manager case kind complexity other_kind date "
                                  "duration_minutes place thematic_offer session_format audience created_at topics "
                                  "language_support handed_over", TRACE),
        _rules("case_data", EMPTY, "note", CASE_TEXT),
    ),
    # A topic of an appointment, with the appointment's district and date copied (for R2): follows it.
    "casework.appointmenttopic": _rules("case_data", KEEP, "appointment topic district date", TRACE),
    "casework.deputygrant": _rules("staff", KEEP, "district provider grantor deputy valid_from valid_until revoked_on",
                                   "Vertretungsregelung unter Beschäftigten"),
    # ------------------------------------------------------------ data protection
    "privacy.erasure": _model(
        _rules("erasure", KEEP, "district provider participant status requested_by requested_at due_on decided_by "
                                "decided_at froze_record", "Nachweis der Löschung, ohne personenbezogene Werte"),
        _rules("erasure", EMPTY, "reason", "Begründung kann die Person beschreiben"),
    ),
    # A case handed to another provider (kim.privacy.transfer): follows the cases it joins.
    "privacy.transfer": _model(
        _rules("case_data", KEEP, "district kind sender receiver source_case target_case transferred_on categories "
                                  "neutral_fields created_by created_at", "Nachweis der Übergabe, ohne Namen"),
        _rules("case_data", EMPTY, "note", CASE_TEXT),
    ),
    "privacy.retentionperiod": _aggregate("district deletion_class period changed_at"),
    "privacy.retentionrun": _aggregate("district as_of dry_run status counts started_at finished_at worker",
                                       "nur Anzahlen je Löschklasse"),
    # ------------------------------------------------------------ module 3
    "residence.procedure": _model(
        _rules("module3", KEEP, "district office kind received_on complete_on decided_on outcome by_kim_staff "
                                "from_104c created_at", TRACE),
        _rules("module3", EMPTY, "reference", "Aktenzeichen führt zur Person"),
        _rules("module3", UNLINK, "participant", "Verknüpfung zur teilnehmenden Person"),
    ),
    "residence.office": _model(_aggregate("district name kind municipality release_target active"),
                               _rules("staff", KEEP, "staff", "Beschäftigte der Behörde")),
    "residence.monthlytally": _aggregate(
        "district office month kind received granted refused withdrawn by_kim_staff open_under_3 open_3_6 "
        "open_6_12 open_over_12", "Monatszahlen einer Behörde"),
    # ------------------------------------------------------------ import and export
    "exchange.importrun": _model(
        _rules("uploads", KEEP, "district provider created_by case_manager mapping format assignments status progress "
                                "problem_count summary message created_at finished_at worker heartbeat_at",
               "Verlauf des Imports, nur Anzahlen"),
        _rules("uploads", DELETE, "content", "die Datei selbst"),
        _rules("uploads", EMPTY, "filename sheets problems unknown_values identity_changes warnings",
               "aus der Datei gelesene Werte"),
    ),
    "exchange.importedrecord": _rules("case_data", DELETE, "district provider sheet key from_file object_id created_at",
                                      "Kennung aus der Datei, kann aus Namen gebildet sein"),
    "exchange.importmapping": _aggregate("district provider name columns values updated_at",
                                         "Zuordnung von Spalten und Werten, ohne Personen"),
    # ------------------------------------------------------------ audit and access
    "core.auditentry": _model(
        _rules("change_log", KEEP, "at district provider actor action object_type object_id redacted",
               "wer wann was getan hat"),
        _rules("change_log", REDACT, "object_label changes", "Kennung und geänderte Werte der Person"),
    ),
    "sessions.session": _rules("access", DELETE, "session_key session_data expire_date", "Anmeldesitzung"),
    "axes.accessattempt": _rules("access", DELETE, "user_agent ip_address username http_accept path_info "
                                                   "attempt_time get_data post_data failures_since_start",
                                 "fehlgeschlagene Anmeldung"),
    "axes.accessfailurelog": _rules("access", DELETE, "user_agent ip_address username http_accept path_info "
                                                      "attempt_time locked_out", "fehlgeschlagene Anmeldung"),
    "axes.accessattemptexpiration": _rules("access", DELETE, "access_attempt expires_at", "Sperre nach Fehlversuchen"),
    "axes.accesslog": _rules("access", DELETE, "user_agent ip_address username http_accept path_info attempt_time "
                                               "logout_time session_hash", "Anmeldung"),
    "api.apitoken": _rules("access", DELETE, "user name prefix key_hash created_at last_used_at revoked_at expires_at",
                           "Zugangsschlüssel"),
    "identity.directorygroup": _aggregate("source group district role provider created_at",
                                          "Zuordnung von Verzeichnisgruppen zu Rollen, ohne Personen"),
    "identity.directoryaccount": _rules("staff", KEEP, "user source subject suspended_by_directory created_at",
                                        "Verknüpfung eines Kontos mit seinem Eintrag im Verzeichnis (LDAP, OIDC)"),
    "otp_totp.totpdevice": _rules("staff", KEEP, "user name confirmed throttling_failure_timestamp "
                                                 "throttling_failure_count created_at last_used_at key step t0 digits "
                                                 "tolerance drift last_t", "zweiter Faktor eines Kontos"),
    "django_tasks_database.dbtaskresult": _rules(
        "worker", DELETE, "id status enqueued_at started_at finished_at args_kwargs priority task_path worker_ids "
                          "queue_name backend_name run_after return_value exception_class_path traceback",
        "Auftrag mit Kennungen der bearbeiteten Datensätze"),
    "admin.logentry": _rules("staff", KEEP, "action_time user content_type object_id object_repr action_flag "
                                            "change_message", "Änderungen in der Verwaltungsoberfläche"),
    # ------------------------------------------------------------ staff and organisation
    "core.user": _rules("staff", KEEP, "password last_login is_superuser username first_name last_name email is_staff "
                                       "is_active date_joined district provider role groups user_permissions",
                        "Konto einer Fachkraft"),
    "staffing.filling": _model(
        _rules("staff", KEEP, "district position fte starts_on ends_on", "Besetzung für den Verwendungsnachweis"),
        _rules("staff", KEEP, "person holder", "Name der Fachkraft für den Verwendungsnachweis"),
    ),
    "system.steeringmember": _rules("staff", KEEP, "district institution function person deputy active",
                                    "Mitglieder der Lenkungsgruppe (Funktion, Person)"),
    "system.agreement": _aggregate("district title partners form concluded_on review_on status decision theme "
                                   "document document_name"),
    "system.service": _aggregate("district name provider_name description target_groups languages municipality "
                                 "street postcode city opening_hours phone email website valid_from valid_to topics",
                                 "Angebot einer Einrichtung (Dienstkontakt, keine Teilnehmenden)"),
}

# Models without personal data: every field stays. Named field by field all the same, so
# that a field added later needs a rule of its own.
for label, names in {
    "core.district": "name slug require_two_factor caseload_key suppression_k created_at",
    "core.municipality": "district name active",
    "core.provider": "district name slug kind active",
    "core.targetgroup": "district key label active sort_order",
    "core.topic": "district key label active sort_order",
    "core.referralsource": "district key label active sort_order",
    "core.goalcategory": "district key label active sort_order",
    "core.referraltarget": "district key label active sort_order means_no_need provider",
    "core.closurereason": "district key label active sort_order",
    "core.languagesupportkind": "district key label active sort_order",
    "core.lifedomain": "district key label active sort_order",
    "core.thematicoffer": "district key label active sort_order",
    "auth.permission": "name content_type codename",
    "auth.group": "name permissions",
    "contenttypes.contenttype": "app_label model",
    "reports.reportingdeadline": "district title due_on period_start period_end created_by created_at withdrawn_at",
    "reports.dataconfirmation": "deadline district provider confirmed_by confirmed_at complete_share cases note",
    "reports.documenttemplate": "district name content uploaded_by uploaded_at status message checked_at",
    "reports.committeepaper": "district title year reference_date deadline template introduction report_ids "
                              "meeting closing created_by created_at",
    "reports.renderjob": "district paper requested_by format status progress message result report_ids "
                         "shows_meeting created_at finished_at",
    "system.needreport": "district provider author challenge legal_domains topic municipality frequency status "
                         "response theme sent_at triaged_at institutions cases",
    "system.theme": "district title description status failure_reason planned_year planned_quarter responsible "
                    "evidence_figure created_at",
    "system.casereconstruction": "district held_on focus vignette findings institutions themes",
    "system.participationforum": "district held_on municipality participants languages topics_raised themes",
    "system.meeting": "district held_on location minutes",
    "system.agendaitem": "district meeting position theme title",
    "system.decision": "district meeting theme text mode votes_for votes_against abstentions follow_up standard",
    "system.workinggroup": "district name mandate theme purpose other_institutions status results institutions "
                           "members",
    "system.groupmeeting": "district group held_on minutes",
    "system.measure": "district title description decision group theme owner starts_on due_on status cost indicator",
    "staffing.position": "district function title municipality employer fte_approved approved_from approved_until "
                         "passed_on_to note",
    "staffing.vacancy": "district position fte starts_on ends_on",
    "staffing.rate": "district year expense function amount source",
    # The Land's statistics: suppressed figures and keys, no personal row (kim.state_statistics).
    "statistics.districtkey": "district key_id secret created_at",
    "statistics.registereddistrict": "slug name key_id secret registered_at",
    "statistics.extract": "source year content digest created_at imported_at imported_by",
}.items():
    REGISTRY[label] = _aggregate(names)


def fields_with(label: str, *actions: str) -> list[str]:
    """The fields of a model that the given actions apply to, in registry order."""
    return [name for name, rule in REGISTRY.get(label, {}).items() if rule.action in actions]
