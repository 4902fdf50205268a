"""Statewide catalogue defaults, taken from the districts' committee papers (shared/seeds).

Each entry is (key, German label). Labels are data, not interface text: districts rename,
extend and deactivate them, and reports group by them. The key identifies an entry across
districts for statewide statistics."""

TARGET_GROUPS = [
    ("duldung-gestattung", "Duldung/Gestattung"),
    ("umf", "Unbegleitete minderjährige Geflüchtete"),
    ("aufenthg-25ab", "§25a/b AufenthG"),
    ("suedosteuropa", "Menschen aus Südosteuropa"),
    ("aufenthg-104c", "§104c AufenthG"),
    ("ue18-unter-5-jahre", "Über 18 Jahre und weniger als 5 Jahre in Deutschland"),
]

REFERRAL_SOURCES = [
    ("abh", "Ausländerbehörde"),
    ("jobcenter", "Agentur für Arbeit / Jobcenter"),
    ("eigeninitiative", "Eigeninitiative der Teilnehmenden"),
    ("sozialamt", "Sozialamt"),
    ("jugendamt", "Jugendamt"),
    ("jmd", "Jugendmigrationsdienst (JMD)"),
    ("mbe", "Migrationsberatung für Erwachsene (MBE)"),
    ("fluechtlingsberatung", "Flüchtlingsberatung"),
    ("sonstige", "Sonstige"),
]

GOAL_CATEGORIES = [
    ("medizin", "Unterstützung im medizinischen Bereich"),
    ("kinderbetreuung", "Unterstützung bei der Suche nach Kinderbetreuungsplätzen"),
    ("wbs", "Erhalt Wohnberechtigungsschein"),
    ("wohnungssuche", "Unterstützung Wohnungssuche"),
    ("wohnungslosigkeit", "Wohnungslosigkeit verhindern"),
    ("lid-test", "LiD-Test (Leben in Deutschland)"),
    ("sprachkurs", "Unterstützung bei der Sprachkurssuche"),
    ("rechtskreiswechsel", "Rechtskreiswechsel"),
    ("finanzielle-sicherung", "Unterstützung bei der finanziellen Sicherung"),
    ("passbeschaffung", "Hilfe bei der Passbeschaffung"),
    ("verstetigter-aufenthalt", "Anträge zu einem verstetigten Aufenthalt"),
    ("aufenthalt-25ab", "Erhalt Aufenthalt nach §25a/b"),
    ("aufenthalt-104c", "Erhalt Aufenthalt nach §104c AufenthG"),
    ("arbeit-ausbildung", "Unterstützung bei Arbeits-/Ausbildungssuche"),
    ("anerkennung", "Unterstützung bei der Anerkennung von Bildungsabschlüssen"),
]

TOPICS = [
    ("lebensunterhalt", "Lebensunterhalt"),
    ("deutschkurse", "Deutschkurse"),
    ("aufenthalt-einbuergerung", "Aufenthalt/Einbürgerung"),
    ("gesundheit", "Gesundheit"),
    ("wohnen", "Wohnen"),
    ("arbeit", "Arbeit und Ausbildung"),
    ("kinderbetreuung", "Kinderbetreuung"),
    ("schule-bildung", "Schule und Bildung"),
    ("anerkennung", "Anerkennung von Abschlüssen"),
    ("familie", "Familie"),
    ("behoerden", "Behördenangelegenheiten"),
    ("sonstiges", "Sonstiges"),
]

# Partner agencies for referrals, screening outcomes and releases from confidentiality.
REFERRAL_TARGETS = [
    ("abh", "Ausländerbehörde"),
    ("jobcenter", "Jobcenter"),
    ("agentur-fuer-arbeit", "Agentur für Arbeit"),
    ("sozialamt", "Sozialamt"),
    ("jugendamt", "Jugendamt"),
    ("jmd", "Jugendmigrationsdienst (JMD)"),
    ("mbe", "Migrationsberatung für Erwachsene (MBE)"),
    ("kim-cm", "KIM Case Management"),
    ("identitaetsklaerung", "Fördern und Fordern / Identitätsklärung"),
    ("fluechtlingshilfe", "Flüchtlingshilfe"),
    ("kein-bedarf", "kein Bedarf"),
]
NO_NEED_KEY = "kein-bedarf"

CLOSURE_REASONS = [
    ("ziele-erreicht", "Ziele erreicht"),
    ("kein-bedarf-mehr", "Kein Unterstützungsbedarf mehr"),
    ("wegzug", "Wegzug"),
    ("kein-kontakt", "Kein Kontakt mehr"),
    ("abbruch", "Abbruch durch Teilnehmende"),
    ("einwilligung-widerrufen", "Einwilligung widerrufen"),
    ("uebergabe", "Übergabe an andere Stelle"),
    ("uebergabe-traeger", "Übergabe an anderen Träger"),
    ("sonstiges", "Sonstiges"),
]

# The reason a transfer to another provider of the district gives (kim.privacy.transfer).
TRANSFER_CLOSURE_KEY = "uebergabe-traeger"

LANGUAGE_SUPPORT = [
    ("dolmetschung", "Dolmetscher/in"),
    ("uebersetzungsgeraet", "Übersetzungsgerät (z. B. Vasco Translator)"),
    ("telefondolmetschen", "Telefon- oder Videodolmetschen"),
    ("angehoerige", "Angehörige / Bekannte"),
]

LIFE_DOMAINS = [
    ("aufenthalt", "Aufenthalt und Rechtsstatus"),
    ("sprache", "Sprache"),
    ("arbeit", "Arbeit, Ausbildung und Qualifikation"),
    ("finanzen", "Finanzielle Situation"),
    ("wohnen", "Wohnen"),
    ("gesundheit", "Gesundheit"),
    ("familie", "Familie und Kinderbetreuung"),
    ("bildung", "Schule und Bildung"),
    ("soziales", "Soziale Kontakte und Teilhabe"),
]

# Thematic case management offered district-wide (seed 000 and 004, Rhein-Sieg-Kreis).
THEMATIC_OFFERS = [
    ("muki-s", "MuKi-S – Multilinguale Kindergartenkinder mit Sprachauffälligkeiten"),
]

BY_MODEL_NAME = {
    "TargetGroup": TARGET_GROUPS,
    "ReferralSource": REFERRAL_SOURCES,
    "GoalCategory": GOAL_CATEGORIES,
    "Topic": TOPICS,
    "ReferralTarget": REFERRAL_TARGETS,
    "ClosureReason": CLOSURE_REASONS,
    "LanguageSupportKind": LANGUAGE_SUPPORT,
    "LifeDomain": LIFE_DOMAINS,
    "ThematicOffer": THEMATIC_OFFERS,
}
