"""Users of bench/load.py (locust): case managers, coordination and provider leads of one district.

The plan (accounts, their cases and participants, a topic) comes from the JSON file named by
KIM_LOAD_PLAN, which bench/load.py writes. Every user starts with a session made beforehand or
logs in through the login form ("Anmeldung", --with-logins), then works with 1 to 3 seconds
between two requests."""

import itertools
import json
import os
import random
import re
from datetime import date

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["KIM_LOAD_PLAN"], encoding="utf-8").read())
PASSWORD = PLAN["password"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_accounts = {role: itertools.cycle(accounts) for role, accounts in PLAN["accounts"].items()}


class KimUser(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self):
        self.account = next(_accounts[self.role])
        if "session" in self.account:  # signed in beforehand (bench/load.py): fetch a CSRF cookie only
            self.client.cookies.set(PLAN["session_cookie"], self.account["session"])
            self.client.get("/berichte/" if self.role == "coordination" else "/fallarbeit/termine/neu/",
                            name="Start (Sitzung)")
            return
        page = self.client.get("/anmelden/", name="Anmeldung (Formular)")
        token = CSRF.search(page.text).group(1)
        with self.client.post("/anmelden/", name="Anmeldung", catch_response=True, allow_redirects=False,
                              data={"username": self.account["username"], "password": PASSWORD,
                                    "csrfmiddlewaretoken": token},
                              headers={"Referer": self.host + "/anmelden/"}) as response:
            if response.status_code != 302:
                response.failure(f"login {self.account['username']}: HTTP {response.status_code}")

    def csrf_token(self):
        return self.client.cookies.get("csrftoken", "")


class CaseManager(KimUser):
    role = "case_manager"
    weight = 7

    @task(4)
    def my_cases(self):
        self.client.get("/fallarbeit/", name="Meine Fälle")

    @task(4)
    def case_page(self):
        case = random.choice(self.account["cases"])
        self.client.get(f"/fallarbeit/fall/{case}/", name="Fallakte")

    @task(2)
    def participant_page(self):
        participant = random.choice(self.account["participants"])
        self.client.get(f"/fallarbeit/teilnehmende/{participant}/", name="Teilnehmende*r")

    @task(1)
    def participants(self):
        self.client.get("/fallarbeit/teilnehmende/", name="Teilnehmende")

    @task(1)
    def appointments(self):
        self.client.get("/fallarbeit/termine/", name="Termine")

    @task(2)
    def save_appointment(self):
        case = random.choice(self.account["cases"])
        data = {"appt-date": date.today().isoformat(), "appt-duration_minutes": "45", "appt-kind": "counselling",
                "appt-complexity": "complex", "appt-topics": str(random.choice(PLAN["topics"])),
                "appt-place": "office", "csrfmiddlewaretoken": self.csrf_token()}
        with self.client.post(f"/fallarbeit/fall/{case}/termin/", data=data, name="Termin speichern",
                              headers={"Referer": f"{self.host}/fallarbeit/fall/{case}/"},
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}")


class Coordination(KimUser):
    role = "coordination"
    weight = 2

    @task
    def report(self):
        report = random.choice(PLAN["reports"])
        self.client.get(f"/berichte/{report}/", name=f"Bericht {report}")

    @task
    def overview(self):
        self.client.get("/berichte/", name="Berichte (Übersicht)")


class ProviderLead(KimUser):
    role = "provider_lead"
    weight = 1

    @task(2)
    def my_cases(self):
        self.client.get("/fallarbeit/", name="Meine Fälle (Leitung)")

    @task(1)
    def completeness(self):
        self.client.get("/berichte/R15/", name="Bericht R15 (Leitung)")

    @task(1)
    def participants(self):
        self.client.get("/fallarbeit/teilnehmende/", name="Teilnehmende (Leitung)")
