"""The demo district's system level, after the seeds (000: problems reported by case work and
their solutions; 002: Mettmann's themes, forums, agreements and project groups). Dates are
placed relative to the demo's reference date, so that the chain reads the same every year."""

from datetime import date, timedelta
from decimal import Decimal

from kim.casework.models import Case
from kim.core.models import Municipality, ReferralSource, ReferralTarget, Role, Topic, User

from .models import (
    AgendaItem,
    Agreement,
    CaseReconstruction,
    Decision,
    GroupMeeting,
    GroupStatus,
    Measure,
    Meeting,
    NeedReport,
    ParticipationForum,
    Service,
    SteeringMember,
    Theme,
    WorkingGroup,
)

# (challenge, topic key, legal domains, institution keys, status, response, theme index or None)
NEED_REPORTS = [
    ("Auffällig getestete Kinder (Sprachstandsfeststellung) erhalten keine Sprachförderung.", "kinderbetreuung",
     ["sgb8", "school"], ["jugendamt"], "merged", "", 0),
    ("Kita-Anmeldung ist für neu zugewanderte Familien zu komplex; Fristen werden verpasst.", "kinderbetreuung",
     ["sgb8"], ["jugendamt"], "merged", "", 0),
    ("Unzureichende Deutschkenntnisse im Allgemeinen erschweren jede Beratung.", "deutschkurse", [], [],
     "answered", "Sprachmittlung (Dolmetscherdienste) / Beschaffung von Vasco Translators (KIM-Zuwendungen)", None),
    ("Abgelaufene Ausweispapiere: kein Bankkonto, keine Leistungen.", "aufenthalt-einbuergerung",
     ["residence", "sgb2"], ["abh", "jobcenter"], "answered",
     "Schnellere Erstellung der Ausweisdokumente durch abgesprochenen Meldeweg zwischen Jobcenter und ABH", None),
    ("Beim Ersttermin im Jobcenter fehlen Deutschkenntnisse für die Anträge.", "lebensunterhalt", ["sgb2"],
     ["jobcenter"], "answered", "Absprache zur Möglichkeit der Ausfüllhilfe durch das Jobcenter", None),
    ("In Sprachkursen fehlt frühe Beratung zu Anerkennung und Bewerbung.", "deutschkurse", ["sgb3"],
     ["agentur-fuer-arbeit"], "merged", "", 1),
    ("Teilnehmende aus Sprachkursen kennen die Beratungsangebote vor Ort nicht.", "deutschkurse", [],
     ["mbe"], "merged", "", 1),
    ("Zugewanderte aus EU-Staaten (Freizügigkeit) kommen erst spät in die Beratung.", "behoerden", ["sgb2"],
     ["jobcenter"], "merged", "", 3),
    ("Alltagssprache wird außerhalb der Kurse kaum geübt; es fehlen Begegnungsorte.", "deutschkurse", [], [],
     "merged", "", 2),
    ("Wohnungssuche scheitert an fehlender Schufa-Auskunft und Vorurteilen.", "wohnen", ["sgb2", "sgb12"],
     ["sozialamt"], "accepted", "", None),
    ("Kein Zugang zu Beratung für Menschen mit Hörbehinderung und Migrationsgeschichte.", "gesundheit",
     ["sgb12"], [], "merged", "", 5),
    ("Behördenschreiben sind nicht barrierefrei und nur auf Deutsch.", "behoerden", ["residence"], ["abh"],
     "merged", "", 5),
    ("Anerkennungsverfahren dauern so lange, dass Stellenangebote verfallen.", "anerkennung", ["sgb3"],
     ["agentur-fuer-arbeit"], "accepted", "", None),
    ("Einbürgerungsanträge: Wartezeit für Beratungstermine über sechs Monate.", "aufenthalt-einbuergerung",
     ["nationality"], ["abh"], "answered",
     "Gemeinsame Prozessvereinbarung mit der Einbürgerungsstelle in Vorbereitung (Modul 3)", None),
    ("Unbegleitete minderjährige Geflüchtete fallen mit 18 aus der Betreuung.", "familie", ["sgb8", "residence"],
     ["jugendamt"], "answered", "Kooperationsvereinbarung mit der AWO zur Überleitung", None),
    ("Junge Menschen knapp unter 27 werden vom JMD nicht mehr erreicht.", "arbeit", ["sgb2"], ["jmd"],
     "answered", "Mündliche Absprache mit dem JMD: Aufnahme ins KIM Case Management möglich", None),
    ("Schulplätze für Seiteneinsteiger fehlen in mehreren Städten.", "schule-bildung", ["school"], [],
     "declined", "Zuständig ist das Schulamt; die Meldung ist dorthin weitergegeben.", None),
    ("Ärztliche Versorgung ohne Krankenversicherung ist ungeklärt.", "gesundheit", ["asylblg"], ["sozialamt"],
     "sent", "", None),
    ("Fahrtkosten zu Terminen in der Kreisstadt sind für viele nicht tragbar.", "lebensunterhalt", ["sgb2"],
     [], "sent", "", None),
    ("Arbeitsmarktzugang mit Duldung: Beschäftigungserlaubnisse dauern zu lange.", "arbeit",
     ["residence", "sgb3"], ["abh"], "merged", "", 4),
]

# (title, status, year offset, quarter, description, failure reason)
THEMES = [
    ("Sprachförderung auffällig getesteter Kinder", Theme.Status.IMPLEMENTING, -3, 3,
     "Kinder mit auffälligem Sprachtest erhalten keine Förderung (DELFIN 4).", ""),
    ("Frühzeitige Beratung in Sprachkursen", Theme.Status.DECIDED, -2, 2,
     "Mit BAMF, Sprachkursträgern und Beratungsakteuren ein Konzept und eine terminierte Angebotsübersicht.", ""),
    ("Alltagssprache und soziale Integration", Theme.Status.FAILED, -2, 3,
     "Verbesserte Möglichkeiten zum Erlernen und Anwenden von Alltagssprache.",
     "Nicht zustande gekommen aufgrund fehlender Rückmeldungen zur Mitarbeit"),
    ("Frühzeitige Beratung im Rahmen der Freizügigkeit", Theme.Status.PRESENTED, -2, 3,
     "Zugewanderte Menschen aus EU-Staaten früh erreichen.", ""),
    ("Arbeit", Theme.Status.CLOSED, -3, 3,
     "Arbeitsmarktzugang; Bericht in der Vorlage zum Sozialausschuss.", ""),
    ("Barrierefreie Beratung und Information", Theme.Status.PREPARED, -1, 2,
     "Beratung und Informationen barrierefrei und mehrsprachig.", ""),
    ("Diversitätsorientierte Öffnung", Theme.Status.COLLECTED, -1, 4,
     "Interkulturelle Öffnung der Verwaltung.", ""),
]

MEMBERS = [("Kreis Mettmann", "Dezernent Soziales (Vorsitz)", "Dr. Jana Vogt", "Markus Brandt"),
           ("Ausländerbehörde", "Amtsleitung", "Petra Schulte", "Yusuf Demir"),
           ("Jobcenter ME-aktiv", "Geschäftsführung", "Andreas Kühn", "Sabine Roth"),
           ("Agentur für Arbeit Mettmann", "Bereichsleitung", "Claudia Berger", ""),
           ("Jugendamt", "Amtsleitung", "Thomas Lange", "Miriam Yilmaz"),
           ("Caritasverband", "Fachbereichsleitung Migration", "Elena Nowak", ""),
           ("AWO Kreisverband", "Geschäftsführung", "Frank Becker", ""),
           ("Kommunales Integrationszentrum", "Leitung", "Aylin Kaya", "Jonas Weber")]

SERVICES = [
    ("Migrationsberatung für Erwachsene (MBE)", "Caritasverband", "deutschkurse", "Deutsch, Arabisch, Russisch"),
    ("Jugendmigrationsdienst (JMD)", "Diakonie", "arbeit", "Deutsch, Englisch, Farsi"),
    ("Flüchtlingsberatung", "Diakonie", "aufenthalt-einbuergerung", "Deutsch, Arabisch, Tigrinya"),
    ("Schuldnerberatung", "AWO Kreisverband", "lebensunterhalt", "Deutsch, Türkisch"),
    ("Anerkennungsberatung (IQ Netzwerk)", "Kreis Mettmann", "anerkennung", "Deutsch, Englisch, Ukrainisch"),
    ("Kita-Lotsen", "Jugendamt", "kinderbetreuung", "Deutsch, Arabisch, Ukrainisch"),
    ("Integrationskurse", "Volkshochschule", "deutschkurse", "Deutsch"),
    ("Wohnungsnotfallhilfe", "Stadt", "wohnen", "Deutsch, Englisch"),
]


def build_system_level(district, today: date, rng) -> dict:
    """~20 need reports, 6 reconstructions, 2 forums, 7 themes, 4 meetings with decisions,
    3 groups, 5 measures, 4 agreements, ~40 services; returns their counts."""
    year = today.year
    topics = {t.key: t for t in Topic.objects.filter(district=district)}
    targets = {t.key: t for t in ReferralTarget.objects.filter(district=district)}
    sources = {s.key: s for s in ReferralSource.objects.filter(district=district)}
    towns = list(Municipality.objects.filter(district=district).order_by("name"))
    coordinators = list(User.objects.filter(district=district, role=Role.COORDINATION).order_by("pk"))
    managers = list(User.objects.filter(district=district, role=Role.CASE_MANAGER).order_by("pk"))
    module3 = list(User.objects.filter(district=district, role=Role.MODULE3).order_by("pk"))

    themes = [Theme.objects.create(
        district=district, title=title, status=status, planned_year=year + offset, planned_quarter=quarter,
        description=description, failure_reason=reason, responsible=coordinators[0] if coordinators else None,
        evidence_figure=f"R2|{topics['kinderbetreuung'].pk}" if index == 0 else "")
        for index, (title, status, offset, quarter, description, reason) in enumerate(THEMES)]

    for index, (challenge, topic, domains, institutions, status, response, theme) in enumerate(NEED_REPORTS):
        author = managers[index % len(managers)]
        sent = today - timedelta(days=30 + 35 * (len(NEED_REPORTS) - index))
        report = NeedReport.objects.create(
            district=district, provider_id=author.provider_id, author=author, challenge=challenge,
            topic=topics[topic], legal_domains=domains, municipality=towns[index % len(towns)],
            frequency=rng.choice(list(NeedReport.Frequency.values)), status=status, response=response,
            theme=themes[theme] if theme is not None else None, sent_at=_moment(sent),
            triaged_at=None if status == "sent" else _moment(sent + timedelta(days=10)))
        report.institutions.set([targets[key] for key in institutions])
        cases = list(Case.objects.filter(case_manager=author).order_by("pk")[: rng.randint(0, 3)])
        report.cases.set(cases)

    focuses = ["Zielgruppe Südosteuropa", "Zielgruppe Südosteuropa", "Übergang Schule – Beruf",
               "Unbegleitete minderjährige Geflüchtete", "Zugang zur Kita", "Aufenthaltssicherung"]
    for index, focus in enumerate(focuses):
        reconstruction = CaseReconstruction.objects.create(
            district=district, held_on=today - timedelta(days=700 - 110 * index), focus=focus,
            vignette="Eine Familie mit drei Kindern, seit zwei Jahren im Kreis; Frau A. spricht wenig Deutsch, "
                     "die Kinder warten auf Kita- und Schulplätze, Leistungen wurden mehrfach unterbrochen.",
            findings="Zuständigkeiten zwischen Jobcenter, Jugendamt und Ausländerbehörde sind für die Familie nicht "
                     "erkennbar; es fehlt eine gemeinsame Anlaufstelle.")
        reconstruction.institutions.set([targets[k] for k in ("abh", "jobcenter", "jugendamt")])
        reconstruction.themes.set([themes[index % 4]])

    for index, (day, town) in enumerate(((date(year - 2, 3, 18), towns[0]), (date(year - 2, 10, 7), towns[3]))):
        forum = ParticipationForum.objects.create(
            district=district, held_on=day, municipality=town, participants=24 + 7 * index,
            languages="Arabisch, Ukrainisch, Türkisch, Farsi",
            topics_raised="Wartezeiten bei Behörden, fehlende Kita-Plätze, Begegnungsorte zum Deutschsprechen.")
        forum.themes.set([themes[2], themes[0]])

    SteeringMember.objects.bulk_create(SteeringMember(district=district, institution=i, function=f, person=p,
                                                      deputy=d) for i, f, p, d in MEMBERS)

    meetings = [Meeting.objects.create(district=district, held_on=day, location="Kreishaus Mettmann",
                                       minutes=minutes) for day, minutes in (
        (date(year - 3, 6, 14), "Vorstellung der Themen aus Fallrekonstruktionen und Bedarfsmeldungen."),
        (date(year - 2, 3, 20), "Bericht der Projektgruppe DELFIN 4; Themen Sprachkurse und Alltagssprache."),
        (date(year - 1, 9, 10), "Bericht zu Kooperationsvereinbarungen; Freizügigkeit vorgestellt."),
        (today + timedelta(days=21), ""))]
    agenda = [(0, 0), (0, 4), (1, 0), (1, 1), (1, 2), (2, 3), (3, 5), (3, 6)]
    for position, (meeting, theme) in enumerate(agenda, start=1):
        AgendaItem.objects.create(district=district, meeting=meetings[meeting], theme=themes[theme],
                                  position=position)
    AgendaItem.objects.create(district=district, meeting=meetings[3], position=9,
                              title="Bericht der Projektgruppe Träger Case Management")
    decisions = [
        Decision.objects.create(district=district, meeting=meetings[0], theme=themes[0], follow_up="group",
                                text="Die Projektarbeitsgruppe DELFIN 4 wird eingerichtet; Ziel ist die "
                                     "Implementierung konkreter Maßnahmen zur Sprachförderung."),
        Decision.objects.create(district=district, meeting=meetings[0], theme=themes[4], follow_up="measure",
                                mode="vote", votes_for=7, votes_against=0, abstentions=1,
                                text="Das Thema Arbeit wird mit einem festen Zusteuerungsweg über die "
                                     "Integration Points umgesetzt und dem Sozialausschuss berichtet."),
        Decision.objects.create(district=district, meeting=meetings[1], theme=themes[1], follow_up="measure",
                                text="Kontaktaufnahme mit dem BAMF; mit den Sprachkursträgern wird eine terminierte "
                                     "Angebotsübersicht erarbeitet."),
        Decision.objects.create(district=district, meeting=meetings[2], theme=None, follow_up="standard",
                                standard="Qualitätsstandards Case Management",
                                text="Die Qualitätsstandards des Case Managements gelten für alle Träger."),
    ]
    groups = [
        WorkingGroup.objects.create(district=district, name="Projektgruppe DELFIN 4", mandate=decisions[0],
                                    theme=themes[0], purpose="Sprachförderung auffällig getesteter Kinder",
                                    status=GroupStatus.ACTIVE, other_institutions="Kitas, Gesundheitsamt",
                                    results="Konzept zur Sprachförderung in Kitas abgestimmt."),
        WorkingGroup.objects.create(district=district, name="Projektgruppe Träger Case Management",
                                    purpose="Einheitliche Haltung zur Arbeit im KIM Case Management",
                                    status=GroupStatus.ACTIVE),
        WorkingGroup.objects.create(district=district, name="Konzeptarbeitsgruppe Arbeitsmarkt", theme=themes[4],
                                    mandate=decisions[1], status=GroupStatus.FINISHED,
                                    results="Zusteuerungsprozess mit der Arbeitsverwaltung festgeschrieben."),
    ]
    groups[0].institutions.set([targets["jugendamt"]])
    groups[0].members.set(managers[:2])
    groups[1].members.set(managers[2:4])
    groups[2].institutions.set([targets["jobcenter"], targets["agentur-fuer-arbeit"]])
    groups[2].members.set(module3[:1])
    for group in groups:
        for months in (3, 7):
            GroupMeeting.objects.create(district=district, group=group, held_on=today - timedelta(days=30 * months),
                                        minutes="Stand der Arbeit besprochen, nächste Schritte vereinbart.")

    measures = [
        ("Sprachförderkräfte in Kitas mit vielen auffälligen Tests", decisions[0], groups[0], "Jugendamt",
         date(year - 1, 2, 1), date(year - 1, 12, 31), "done", Decimal("12000"), f"R2|{topics['kinderbetreuung'].pk}"),
        ("Mehrsprachige Info-Materialien zur Kita-Anmeldung", decisions[0], groups[0], "KIM Koordination",
         date(year - 2, 4, 1), date(year - 2, 9, 30), "done", Decimal("4500"), f"R2|{topics['kinderbetreuung'].pk}"),
        ("Fester Zusteuerungsweg über die Integration Points", decisions[1], groups[2], "Jobcenter",
         date(year - 2, 1, 1), date(year - 2, 6, 30), "done", None, f"R4|{sources['jobcenter'].pk}"),
        ("Terminierte Angebotsübersicht mit den Sprachkursträgern", decisions[2], None, "KIM Koordination",
         date(year - 1, 5, 1), today - timedelta(days=40), "running", Decimal("6000"),
         f"R2|{topics['deutschkurse'].pk}"),
        ("Meldeweg Jobcenter – Ausländerbehörde für Ausweisdokumente", None, None, "Ausländerbehörde",
         date(year - 1, 3, 1), today + timedelta(days=90), "running", None, f"R4|{sources['abh'].pk}"),
    ]
    for title, decision, group, owner, start, due, status, cost, indicator in measures:
        Measure.objects.create(district=district, title=title, decision=decision, group=group, owner=owner,
                               theme=(decision.theme if decision else None) or (group.theme if group else None),
                               starts_on=start, due_on=due, status=status, cost=cost, indicator=indicator)

    for title, partners, form, concluded, review, decision, theme in (
        ("Zusammenarbeit Ausländerbehörde und Beratungsstruktur", "Ausländerbehörde, Beratungsstruktur",
         "written", date(year - 2, 5, 1), today + timedelta(days=20), None, None),
        ("Stärkung der Integrationsmöglichkeiten mit der Arbeitsverwaltung", "Agentur für Arbeit, Jobcenter",
         "written", date(2021, 11, 1), date(year + 1, 11, 1), decisions[1], themes[4]),
        ("Überleitung unbegleiteter minderjähriger Geflüchteter", "AWO Kreis Mettmann gGmbH", "written",
         date(year - 2, 9, 1), date(year + 1, 9, 1), None, None),
        ("Meldung potenzieller Teilnehmender", "Stadt Erkrath, Abteilung Integration", "written",
         date(year - 2, 6, 1), today - timedelta(days=5), None, None),
    ):
        Agreement.objects.create(district=district, title=title, partners=partners, form=form,
                                 concluded_on=concluded, review_on=review, status=Agreement.Status.IN_FORCE,
                                 decision=decision, theme=theme)

    services = []
    for index in range(40):
        name, provider, topic, languages = SERVICES[index % len(SERVICES)]
        town = towns[index % len(towns)]
        service = Service(district=district, name=name, provider_name=provider,
                          description=f"{name} in {town.name}: Beratung, Begleitung und Vermittlung.",
                          target_groups="Zugewanderte Menschen", languages=languages, municipality=town,
                          street=f"Marktplatz {index + 1}", postcode=f"40{index + 600:03d}"[:5], city=town.name,
                          opening_hours="Mo–Do 9–12 Uhr, Fr 9–13 Uhr" if index % 5 else "nach Vereinbarung", phone=f"02104 99{index:03d}",
                          email=f"beratung{index}@example.org", valid_from=date(year - 2, 1, 1))
        services.append((service, topic))
    for service, topic in services:
        service.save()
        service.topics.set([topics[topic]])
    return {"need_reports": len(NEED_REPORTS), "themes": len(themes), "meetings": len(meetings),
            "working_groups": len(groups), "measures": len(measures), "agreements": 4, "services": len(services)}


def _moment(day):
    from django.utils import timezone

    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 10, 0))
