"""Steps of an import run in processes of their own, for the tests of concurrency and of
killed processes: `kim shell -c "from tests.import_steps import upload; upload(...)"`.
Each prints what it did on its last line."""

import io
import json
import sys
from datetime import date, timedelta

from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

USERNAME = "cm-nebenlaeufig"


def set_up():
    """A district with one provider, a town and a case manager."""
    from kim.core.models import Municipality, Provider, Role, User
    from kim.core.services import create_district

    with scopes_disabled():
        district = create_district(None, "Kreis Nebenläufig", "nebenlaeufig")
        Municipality.objects.create(district=district, name="Stadt")
        provider = Provider.objects.create(district=district, name="Träger", slug="traeger")
        User.objects.create_user(USERNAME, district=district, provider=provider, role=Role.CASE_MANAGER)
    print("ready")


def other_work_file(rows: int) -> bytes:
    """`rows` appointments of other work (no case needed), in the standard workbook's shape."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Termine")
    sheet.append(["Fall-Kennung", "Datum", "Art", "komplex", "Dauer (Minuten)", "Themen", "Sprachmittlung"])
    start = date.today() - timedelta(days=400)
    for i in range(rows):
        sheet.append([None, start + timedelta(days=i % 365), "Sonstiger Termin", None, 30 + i % 60, None, None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_file(path: str, rows: int):
    with open(path, "wb") as target:
        target.write(other_work_file(int(rows)))
    print("written")


def upload(path: str, then: str = ""):
    """Upload the file as the case manager; `then`: "check" or "commit" queues that step."""
    from kim.core.models import User
    from kim.exchange.services import request_check, request_commit, run_import, start_import

    with scopes_disabled():
        user = User.objects.get(username=USERNAME)
    with scope(district=user.district_id), open(path, "rb") as source:
        run = start_import(user, filename="termine.xlsx", data=source.read())
        if then == "check":
            request_check(user, run)
        elif then == "commit":  # checked first, in this process
            run = run_import(run, commit=False)
            request_commit(user, run)
        elif then == "import":  # the whole import in this process, as `kim import` does it
            run_import(run, commit=True)
    print(json.dumps({"run": run.pk}))


def commit_again(run_id: int):
    """Queue the import of a checked run again, as its uploader does on the page."""
    from kim.exchange.models import ImportRun
    from kim.exchange.services import request_commit

    with scopes_disabled():
        run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    with scope(district=run.district_id):
        request_commit(run.created_by, run)
    print(json.dumps({"run": run.pk}))


def status(run_id: int):
    from kim.exchange.models import ImportRun

    with scopes_disabled():
        run = ImportRun.objects.get(pk=run_id)
        print(json.dumps({"status": run.status, "progress": run.progress, "message": run.message,
                          "content": run.content is not None}))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
