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
            self.page("/berichte/" if self.role == "coordination" else "/fallarbeit/termine/neu/",
                      "Start (Sitzung)")
            return
        page = self.client.get("/anmelden/", name="Anmeldung (Formular)")
        token = CSRF.search(page.text).group(1)
        with self.client.post("/anmelden/", name="Anmeldung", catch_response=True, allow_redirects=False,
                              data={"username": self.account["username"], "password": PASSWORD,
                                    "csrfmiddlewaretoken": token},
                              headers={"Referer": self.host + "/anmelden/"}) as response:
            if response.status_code != 302:
                response.failure(f"login {self.account['username']}: HTTP {response.status_code}")

    def page(self, url, name):
        """A page, counted as an error when it ends anywhere but where it was asked for: a lost
        session is redirected to the login page, which answers fast and would pass as a success."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if "/anmelden/" in response.url and "/anmelden/" not in url:
                response.failure("redirected to the login page: the session is not valid")
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response

    def csrf_token(self):
        return self.client.cookies.get("csrftoken", "")


class CaseManager(KimUser):
    role = "case_manager"
    weight = 7

    @task(4)
    def my_cases(self):
        self.page("/fallarbeit/", "Meine Fälle")

    @task(4)
    def case_page(self):
        case = random.choice(self.account["cases"])
        self.page(f"/fallarbeit/fall/{case}/", "Fallakte")

    @task(2)
    def participant_page(self):
        participant = random.choice(self.account["participants"])
        self.page(f"/fallarbeit/teilnehmende/{participant}/", "Teilnehmende*r")

    @task(1)
    def participants(self):
        self.page("/fallarbeit/teilnehmende/", "Teilnehmende")

    @task(1)
    def appointments(self):
        self.page("/fallarbeit/termine/", "Termine")

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
            elif "/anmelden/" in response.headers.get("Location", ""):
                response.failure("redirected to the login page: the session is not valid")


class Coordination(KimUser):
    role = "coordination"
    weight = 2

    @task
    def report(self):
        report = random.choice(PLAN["reports"])
        self.page(f"/berichte/{report}/", f"Bericht {report}")

    @task
    def overview(self):
        self.page("/berichte/", "Berichte (Übersicht)")


class ProviderLead(KimUser):
    role = "provider_lead"
    weight = 1

    @task(2)
    def my_cases(self):
        self.page("/fallarbeit/", "Meine Fälle (Leitung)")

    @task(1)
    def completeness(self):
        self.page("/berichte/R15/", "Bericht R15 (Leitung)")

    @task(1)
    def participants(self):
        self.page("/fallarbeit/teilnehmende/", "Teilnehmende (Leitung)")
