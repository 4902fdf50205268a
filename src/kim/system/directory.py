"""The service directory (Angebotsübersicht): searched by case managers when they refer
someone, kept by coordination, exported as CSV and JSON (schema in docs/angebote.md), as a
printable list per town, and in the shape the Integreat CMS reads for its locations."""

import csv
import io
import json
import re

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from kim.core.access import as_id, permission_required
from kim.core.cells import neutralise
from kim.core.models import Municipality, Topic

from .models import Service

directory_view = permission_required("system.read_directory")
SCHEMA_VERSION = 1
COLUMNS = ["name", "provider_name", "description", "target_groups", "topics", "languages", "municipality",
           "street", "postcode", "city", "opening_hours", "phone", "email", "website", "valid_from", "valid_to"]


def search(services, data):
    """The services matching a search form (q, gemeinde, thema; current ones unless alle=1)."""
    text = (data.get("q") or "").strip()[:100]
    if text:
        services = services.filter(Q(name__icontains=text) | Q(description__icontains=text)
                                   | Q(target_groups__icontains=text) | Q(languages__icontains=text)
                                   | Q(provider_name__icontains=text))
    municipality, topic = as_id(data.get("gemeinde")), as_id(data.get("thema"))
    if municipality is not None:
        services = services.filter(Q(municipality_id=municipality) | Q(municipality__isnull=True))
    if topic is not None:
        services = services.filter(topics=topic)
    if data.get("alle") != "1":
        today = timezone.localdate()
        services = services.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today),
                                   Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return services.distinct()


def search_form_context(data):
    return {"q": (data.get("q") or "")[:100], "gemeinde": data.get("gemeinde", ""), "thema": data.get("thema", ""),
            "alle": data.get("alle") == "1", "municipalities": Municipality.objects.all(), "topics": Topic.objects.all()}


def entries(data):
    services = search(Service.objects.all(), data).select_related("municipality").prefetch_related("topics")
    return list(services)


def as_record(service) -> dict:
    """One service in the documented JSON schema (docs/angebote.md)."""
    return {
        "id": service.pk, "name": service.name, "provider": service.provider_name,
        "description": service.description, "target_groups": service.target_groups,
        "topics": [topic.label for topic in service.topics.all()], "languages": service.languages,
        "municipality": service.municipality.name if service.municipality else None,
        "address": {"street": service.street, "postcode": service.postcode, "city": service.city},
        "opening_hours": service.opening_hours, "phone": service.phone, "email": service.email,
        "website": service.website,
        "valid_from": service.valid_from.isoformat() if service.valid_from else None,
        "valid_to": service.valid_to.isoformat() if service.valid_to else None,
    }


def _attachment(content, content_type, filename):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@directory_view
@require_safe
def export_csv(request):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(COLUMNS)
    for service in entries(request.GET):
        record = as_record(service)
        row = [record["name"], record["provider"], record["description"], record["target_groups"],
               ", ".join(record["topics"]), record["languages"], record["municipality"] or "",
               service.street, service.postcode, service.city, service.opening_hours, service.phone,
               service.email, service.website, record["valid_from"] or "", record["valid_to"] or ""]
        writer.writerow([neutralise(value) for value in row])
    # With a byte-order mark, so that Excel opens the umlauts right.
    return _attachment("\ufeff" + buffer.getvalue(), "text/csv; charset=utf-8", "angebote.csv")


@directory_view
@require_safe
def export_json(request):
    document = {"schema": "kim-angebote", "version": SCHEMA_VERSION, "district": request.user.district.name,
                "generated_at": timezone.now().isoformat(timespec="seconds"),
                "services": [as_record(service) for service in entries(request.GET)]}
    return _attachment(json.dumps(document, ensure_ascii=False, indent=2), "application/json", "angebote.json")


@directory_view
@require_safe
def printable(request):
    """The list per town, for printing (a town's services, then those for the whole district)."""
    by_town = {}
    for service in entries(request.GET):
        by_town.setdefault(service.municipality.name if service.municipality else "", []).append(service)
    towns = sorted(by_town.items(), key=lambda item: (item[0] == "", item[0]))
    return render(request, "system/directory_print.html", {"towns": towns})


# The columns of the Integreat CMS's location import (`integreat-cms-cli import_pois_from_csv
# CSV REGION USER`, integreat_cms/core/management/commands/import_pois_from_csv.py): read by name,
# one time slot per weekday, a day without times counts as closed. Description, languages and
# target groups have no column there (the JSON export carries them).
INTEGREAT_COLUMNS = ["name", "street_address", "postal_code", "city", "country", "latitude", "longitude",
                     "location_on_map", "website", "email", "phone_number", "appointment_url", "category",
                     "barrier_free", "temporarily_closed"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAY_NAMES = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6}
HOURS = re.compile(r"^\s*(mo|di|mi|do|fr|sa|so)\w*\.?\s*(?:[-–]\s*(mo|di|mi|do|fr|sa|so)\w*\.?)?\s+"
                   r"(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?\s*(?:uhr)?\s*$", re.IGNORECASE)
INTEGREAT_CATEGORY = "Beratung"


def weekly_hours(text: str) -> dict | None:
    """{weekday index: (start, end)} from opening hours written like "Mo–Do 9–12 Uhr, Fr 9:30–13
    Uhr"; None where the text says something else (Integreat would then show the service
    closed, so its hours are left out and the list says so)."""
    if not text.strip():
        return {}
    hours = {}
    for part in re.split(r"[,;]", text):
        match = HOURS.match(part)
        if not match:
            return None
        first, last = DAY_NAMES[match.group(1).lower()], DAY_NAMES[(match.group(2) or match.group(1)).lower()]
        start = f"{int(match.group(3)):02d}:{match.group(4) or '00'}"
        end = f"{int(match.group(5)):02d}:{match.group(6) or '00'}"
        if not ("00:00" <= start < end <= "23:59") or last < first:
            return None
        for day in range(first, last + 1):
            if day in hours:
                return None  # Integreat takes one time slot per day
            hours[day] = (start, end)
    return hours


def integreat_row(service) -> list[str]:
    hours = weekly_hours(service.opening_hours) or {}
    phone = re.sub(r"[\s/()-]", "", service.phone)
    row = [service.name, service.street, service.postcode, service.city or (
        service.municipality.name if service.municipality else ""), "Deutschland", "", "", "no", service.website,
        service.email, phone, "", INTEGREAT_CATEGORY, "", "no"]
    for day in range(7):
        start, end = hours.get(day, ("", ""))
        row += [start, end, "no", "no" if day in hours else "yes", "no"]
    return row


@directory_view
@require_safe
def export_integreat(request):
    """The directory as a CSV for the Integreat CMS's location import; the import creates
    drafts that the district publishes in the CMS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INTEGREAT_COLUMNS + [f"{day}_{part}" for day in WEEKDAYS
                                         for part in ("start", "end", "all_day", "closed", "appointment_only")])
    for service in entries(request.GET):
        writer.writerow([neutralise(value) for value in integreat_row(service)])
    return _attachment(buffer.getvalue(), "text/csv; charset=utf-8", "integreat-orte.csv")
