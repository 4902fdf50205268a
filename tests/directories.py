"""Real directory servers for the single sign-on tests, started once per test session on free
loopback ports: OpenLDAP's slapd (Debian package slapd, with ldap-utils) from a configuration
written here, and an OpenID Connect provider (oidc-provider-mock) as its own process. A server
that cannot start fails the test with the reason; without slapd the LDAP tests are skipped with
a reason, unless KIM_REQUIRE_SSO=1 (CI), where its absence fails the run."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=kreis-aue,dc=de"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret-2026"
SERVICE_DN = f"cn=kim,ou=dienste,{SUFFIX}"
SERVICE_PASSWORD = "kim-dienst-2026"
PEOPLE = f"ou=personen,{SUFFIX}"
GROUPS = f"ou=gruppen,{SUFFIX}"


def with_directory_backend(backends: list[str], directory_backend: str) -> list[str]:
    """The settings' login backends with a directory's before the local accounts (the last), as
    kim.identity.config puts them when the directory is configured."""
    return [*backends[:-1], directory_backend, backends[-1]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} ended at start (exit {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------- LDAP


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
suffix "{suffix}"
rootdn "{admin}"
rootpw {admin_password}
directory {dir}/data
maxsize 33554432
access to attrs=userPassword by self read by anonymous auth by * none
access to * by dn.exact="{service}" read by self read by * none
"""


@dataclass
class Slapd:
    uri: str

    def modify(self, ldif: str) -> None:
        run_ldap_tool("ldapmodify", self.uri, ldif)

    def add(self, ldif: str) -> None:
        run_ldap_tool("ldapadd", self.uri, ldif)

    def delete(self, dn: str) -> None:
        subprocess.run(["ldapdelete", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, dn],
                       check=True, capture_output=True, timeout=10)

    def settings(self, **extra) -> dict:
        """Django settings for this directory, made by the same code as from the environment."""
        from kim.identity.config import ldap_settings

        return ldap_settings({
            "KIM_LDAP_SERVER_URI": self.uri, "KIM_LDAP_BIND_DN": SERVICE_DN,
            "KIM_LDAP_BIND_PASSWORD": SERVICE_PASSWORD, "KIM_LDAP_USER_BASE": PEOPLE,
            "KIM_LDAP_GROUP_BASE": GROUPS, **extra})


def run_ldap_tool(tool: str, uri: str, ldif: str) -> None:
    done = subprocess.run([tool, "-x", "-H", uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD], input=ldif, text=True,
                          capture_output=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed: {done.stderr.strip()}")


def person(uid: str, given: str, family: str, password: str) -> str:
    return (f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {family}\n"
            f"givenName: {given}\nsn: {family}\nmail: {uid}@kreis-aue.de\nuserPassword: {password}\n\n")


def group(cn: str, members: list[str]) -> str:
    lines = "".join(f"member: uid={m},{PEOPLE}\n" for m in members)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}\n"


BASE_LDIF = (
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: kreis-aue\no: Kreis Aue\n\n"
    f"dn: ou=personen,{SUFFIX}\nobjectClass: organizationalUnit\nou: personen\n\n"
    f"dn: ou=gruppen,{SUFFIX}\nobjectClass: organizationalUnit\nou: gruppen\n\n"
    f"dn: ou=dienste,{SUFFIX}\nobjectClass: organizationalUnit\nou: dienste\n\n"
    f"dn: {SERVICE_DN}\nobjectClass: person\ncn: kim\nsn: Dienstkonto\nuserPassword: {SERVICE_PASSWORD}\n\n"
)


def slapd_missing() -> str | None:
    for tool in (SLAPD, "ldapadd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian packages slapd and ldap-utils, see tools/system_packages.sh)"
    return None


@pytest.fixture(scope="session")
def slapd():
    reason = slapd_missing()
    if reason is not None:
        if os.environ.get("KIM_REQUIRE_SSO") == "1":
            pytest.fail(f"KIM_REQUIRE_SSO=1 but the LDAP tests cannot run: {reason}")
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="kim-slapd-"))
    (workdir / "data").mkdir()
    conf = workdir / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(dir=workdir, suffix=SUFFIX, admin=ADMIN_DN, admin_password=ADMIN_PASSWORD,
                                      service=SERVICE_DN), encoding="utf-8")
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}/"
    # -d 0: in the foreground (so that this process owns it and stops it), without debug output.
    log = workdir / "slapd.log"
    with log.open("w") as output:
        process = subprocess.Popen([SLAPD, "-f", str(conf), "-h", uri, "-d", "0"], stdout=output, stderr=output)
    try:
        try:
            wait_for_port(port, process, "slapd")
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {log.read_text()}")
        run_ldap_tool("ldapadd", uri, BASE_LDIF)
        yield Slapd(uri)
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- OpenID Connect


@dataclass
class OidcProvider:
    url: str

    def put_user(self, sub: str, claims: dict) -> None:
        request = urllib.request.Request(f"{self.url}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def revoke_tokens(self, sub: str) -> None:
        request = urllib.request.Request(f"{self.url}/users/{sub}/revoke-tokens", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def settings(self, **extra) -> dict:
        from kim.identity.config import oidc_settings

        return oidc_settings({
            "KIM_OIDC_CLIENT_ID": "kim", "KIM_OIDC_CLIENT_SECRET": "kim-secret",
            "KIM_OIDC_AUTHORIZATION_ENDPOINT": f"{self.url}/oauth2/authorize",
            "KIM_OIDC_TOKEN_ENDPOINT": f"{self.url}/oauth2/token",
            "KIM_OIDC_USERINFO_ENDPOINT": f"{self.url}/userinfo",
            "KIM_OIDC_JWKS_ENDPOINT": f"{self.url}/jwks",
            # oidc-provider-mock signs with one key and names no key id.
            "KIM_OIDC_VERIFY_KID": "0", **extra})


@pytest.fixture(scope="session")
def oidc_provider():
    port = free_port()
    env = {**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1", "NO_COLOR": "1"}
    # Its log goes to a file: a pipe nobody reads would fill and stop the server.
    log = tempfile.NamedTemporaryFile(prefix="kim-oidc-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
                                str(port)], env=env, stdout=log, stderr=log)
    log.close()
    try:
        try:
            wait_for_port(port, process, "oidc-provider-mock")
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {Path(log.name).read_text()}")
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):  # the port opens a moment before the application answers
            try:
                urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        yield OidcProvider(url)
    finally:
        stop(process)
        Path(log.name).unlink(missing_ok=True)
