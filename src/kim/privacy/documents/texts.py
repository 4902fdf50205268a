"""The German source texts of the documents handed to participants. Each string is a msgid
of the catalogues in locale/<language>/LC_MESSAGES/documents.po: a change of a German text
here leaves its translations behind (the test of the catalogues names them), and changes
the version of the document (kim.privacy.documents.registry.version)."""

# Labels of the data filled in, shared by all documents.
LABELS = {
    "participant": "Teilnehmende Person",
    "birth_date": "Geburtsdatum",
    "provider": "Verantwortlich (Träger)",
    "case_manager": "Fallmanagerin / Fallmanager",
    "case": "Fall",
    "place_date": "Ort, Datum",
    "sign_participant": "Unterschrift der teilnehmenden Person",
    "sign_case_manager": "Unterschrift der Fachkraft",
    "version": "Fassung",
    "until": "bis",
    "none": "keine",
}

# What a release covers, in the words of the documents (keys of kim.privacy.release.CATEGORIES).
CATEGORY_TEXTS = {
    "identity": "Name, Geburtsdatum und Geschlecht",
    "contact": "Anschrift, Telefon und E-Mail",
    "background": "Staatsangehörigkeit, Sprachen, Einreise und Aufenthaltsstatus",
    "case": "Verlauf des Falls, Ziele und Hilfeplan",
    "assessment": "Einschätzung der Lebenssituation (Assessment)",
    "appointments": "Termine und ihre Themen",
}

# The fields a referral letter may carry, by category, with their German labels.
FIELD_LABELS = {
    "first_name": "Vorname", "last_name": "Nachname", "birth_date": "Geburtsdatum", "gender": "Geschlecht",
    "address": "Anschrift", "phone": "Telefon", "email": "E-Mail",
    "nationalities": "Staatsangehörigkeit", "languages": "Sprachen", "entry_date": "Einreise nach Deutschland",
    "residence_status": "Aufenthaltsstatus",
    "case_kind": "Art der Beratung", "opened_on": "Beginn der Beratung", "goals": "Vereinbarte Ziele",
    "assessed_on": "Letzte Einschätzung vom", "summary": "Zusammenfassung",
    "appointment_count": "Zahl der Termine", "last_appointment": "Letzter Termin", "topics": "Themen",
}

# Each document: its title and its blocks in order, ("h", heading) or ("p", paragraph), and
# the places where the data of the participant are filled in ("data", name of the part).
DOCUMENTS = {
    "consent": ("Einwilligung und Schweigepflichtentbindung", [
        ("data", "person"),
        ("h", "Einwilligung"),
        ("p", "Ich bin damit einverstanden, dass der oben genannte Träger meine personenbezogenen Daten "
              "im Kommunalen Integrationsmanagement (KIM) verarbeitet, um mich zu beraten und zu begleiten."),
        ("p", "Dazu gehören auch Angaben zu meiner Gesundheit, soweit sie für die Beratung nötig sind "
              "(Art. 6 Abs. 1 Buchst. a und Art. 9 Abs. 2 Buchst. a DSGVO, § 9 TIntG NRW)."),
        ("h", "Schweigepflichtentbindung"),
        ("p", "Ich entbinde die Fachkraft von der Schweigepflicht gegenüber diesen Stellen. Sie darf ihnen "
              "nur die angekreuzten Daten weitergeben und Auskünfte über mich einholen, soweit es für meine "
              "Beratung nötig ist."),
        ("data", "partners"),
        ("p", "Freigegebene Daten:"),
        ("data", "categories"),
        ("h", "Freiwilligkeit und Widerruf"),
        ("p", "Meine Einwilligung ist freiwillig. Ohne Einwilligung ist eine Begleitung im Case Management "
              "nicht möglich; andere Leistungen erhalte ich trotzdem."),
        ("p", "Ich kann die Einwilligung jederzeit ganz oder teilweise widerrufen, mündlich oder schriftlich. "
              "Der Widerruf gilt für die Zukunft."),
        ("p", "Die Informationen zur Datenverarbeitung nach Art. 13 DSGVO habe ich erhalten."),
        ("data", "signatures"),
    ]),
    "information": ("Informationen zur Datenverarbeitung (Art. 13 DSGVO)", [
        ("data", "person"),
        ("h", "Wer ist verantwortlich?"),
        ("p", "Verantwortlich ist der oben genannte Träger. Ihre Fachkraft nennt Ihnen seine Anschrift und "
              "seine Datenschutzbeauftragte oder seinen Datenschutzbeauftragten."),
        ("h", "Wozu verarbeiten wir Ihre Daten?"),
        ("p", "Für Ihre Beratung und Begleitung im Kommunalen Integrationsmanagement: Ihre Lage klären, "
              "Ziele vereinbaren und Sie an passende Stellen vermitteln. Für Statistiken zählen wir Ihre "
              "Angaben nur ohne Namen."),
        ("h", "Auf welcher Rechtsgrundlage?"),
        ("p", "Auf Grundlage Ihrer Einwilligung (Art. 6 Abs. 1 Buchst. a und Art. 9 Abs. 2 Buchst. a DSGVO) "
              "und des § 9 Teilhabe- und Integrationsgesetz NRW (TIntG NRW)."),
        ("h", "Wer erhält Ihre Daten?"),
        ("p", "Nur die Stellen, für die Sie uns von der Schweigepflicht entbunden haben, und nur die Daten, "
              "die Sie freigegeben haben. Die Koordinierungsstelle erhält nur Zahlen ohne Namen."),
        ("h", "Wie lange speichern wir Ihre Daten?"),
        ("p", "Bis zum Ablauf von {months} Monaten nach dem Ende des Jahres, in dem Ihr Fall abgeschlossen wurde. "
              "Danach löschen wir Ihre personenbezogenen Daten."),
        ("h", "Müssen Sie Ihre Daten angeben?"),
        ("p", "Nein. Ohne Ihre Angaben können wir Sie aber nur kurz beraten."),
        ("h", "Welche Rechte haben Sie?"),
        ("p", "Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung der Verarbeitung, "
              "Datenübertragbarkeit und Widerspruch (Art. 15 bis 21 DSGVO). Ihre Einwilligung können Sie "
              "jederzeit für die Zukunft widerrufen."),
        ("h", "Wo können Sie sich beschweren?"),
        ("p", "Bei der Landesbeauftragten für Datenschutz und Informationsfreiheit NRW (LDI NRW). Für Träger "
              "der Caritas ist die katholische Datenschutzaufsicht (KDG) zuständig, für Träger der Diakonie "
              "die Datenschutzaufsicht der evangelischen Kirche (DSG-EKD)."),
    ]),
    "goals": ("Zielvereinbarung / Hilfeplan", [
        ("data", "person"),
        ("p", "Wir haben gemeinsam die folgenden Ziele und Schritte vereinbart."),
        ("h", "Ziele"),
        ("data", "goals"),
        ("h", "Schritte: wer macht was bis wann"),
        ("data", "actions"),
        ("p", "Die Einträge stehen in deutscher Sprache; die Fachkraft erklärt sie Ihnen."),
        ("p", "Wir überprüfen die Ziele regelmäßig gemeinsam und passen sie an, wenn es nötig ist."),
        ("p", "Die Vereinbarung ist freiwillig. Sie können jederzeit um ein Gespräch bitten, um sie zu ändern."),
        ("data", "signatures"),
    ]),
    "referral": ("Verweisungsschreiben / Überleitungsbogen", [
        ("data", "referral"),
        ("p", "Wir verweisen die teilnehmende Person an Ihre Stelle. Sie hat uns Ihnen gegenüber von der "
              "Schweigepflicht entbunden. Wir geben nur die Daten weiter, die sie freigegeben hat."),
        ("h", "Freigegebene Daten"),
        ("data", "released"),
        ("p", "Bitte verwenden Sie die Daten nur für diese Beratung. Bei Fragen wenden Sie sich an die "
              "genannte Fachkraft."),
        ("data", "signature_case_manager"),
    ]),
}

# Labels of the referral letter's head.
REFERRAL_LABELS = {
    "to": "An",
    "referred_on": "Datum der Verweisung",
    "reason": "Anlass",
    "no_data": "Es wurden keine Daten freigegeben.",
}
