"""The files in deploy/ that docs/betrieb.md tells the operator to install: systemd units checked
by systemd itself, the nginx site checked by nginx and sent real HTTPS through, and the example
configuration naming only settings that exist."""

import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT / "deploy"
UNITS = {"kim-web.service": "serve", "kim-worker.service": "worker"}
INSTALL_DIR = "/opt/kim"


def unit_settings(name: str) -> dict[str, list[str]]:
    """Key → values of a unit file (systemd allows a key more than once)."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if line.strip() and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def kim_arguments(name: str) -> list[str]:
    [command] = unit_settings(name)["ExecStart"]
    program, *arguments = shlex.split(command)
    assert program == f"{INSTALL_DIR}/.venv/bin/kim"
    return arguments


def test_the_web_unit_serves_without_a_worker_of_its_own():
    from kim.serve import parse

    command, *arguments = kim_arguments("kim-web.service")
    assert command == "serve"
    options = parse(arguments)  # kim serve's own parser: an unknown option would end the test
    assert options.no_task_worker and options.bind == "127.0.0.1:8000"


def test_the_worker_unit_runs_kim_worker():
    from django.core.management import get_commands, load_command_class

    command, *arguments = kim_arguments("kim-worker.service")
    assert command == "worker" and get_commands()["worker"] == "kim.core"
    load_command_class("kim.core", "worker").create_parser("kim", "worker").parse_args(arguments)


def test_the_web_unit_gives_the_metrics_a_folder_emptied_at_each_start():
    settings = unit_settings("kim-web.service")
    assert settings["RuntimeDirectory"] == ["kim-web"]
    assert "PROMETHEUS_MULTIPROC_DIR=/run/kim-web" in settings["Environment"]


def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify` on all units together (the timer needs its service), with the
    installation folder pointed at this checkout: it checks that ExecStart's program exists.
    Any remark (an unknown or misspelt key) fails."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the tests above still parse the units")
    environment_file = tmp_path / "kim.env"
    environment_file.write_text((DEPLOY / "kim.env.example").read_text())
    units = []
    for source in sorted((DEPLOY / "systemd").iterdir()):
        text = source.read_text().replace(INSTALL_DIR, str(PROJECT)).replace("/etc/kim/kim.env", str(environment_file))
        (tmp_path / source.name).write_text(text)
        units.append(str(tmp_path / source.name))
    assert {Path(unit).name for unit in units} >= {*UNITS, "kim-backup.service", "kim-backup.timer"}
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_the_backup_unit_runs_the_backup_script():
    [command] = unit_settings("kim-backup.service")["ExecStart"]
    assert shlex.split(command) == ["/bin/sh", f"{INSTALL_DIR}/deploy/kim-backup.sh"]
    assert (DEPLOY / "kim-backup.sh").is_file()
    assert subprocess.run(["sh", "-n", str(DEPLOY / "kim-backup.sh")], check=False).returncode == 0


def test_the_example_configuration_names_only_existing_settings():
    source = (PROJECT / "src" / "kim" / "settings.py").read_text()
    named = re.findall(r"^#?\s*(KIM_[A-Z_]+)=", (DEPLOY / "kim.env.example").read_text(), flags=re.MULTILINE)
    assert len(named) >= 8
    assert [name for name in named if f'"{name}"' not in source] == []


# ---------------------------------------------------------------- nginx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_program() -> str:
    program = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if program is None:
        pytest.skip("nginx is not installed (tools/system_packages.sh installs it): deploy/nginx/kim.conf unchecked")
    return program


@pytest.fixture
def nginx_site(tmp_path):
    """deploy/nginx/kim.conf in a main configuration of its own, with a self-signed certificate
    and free ports instead of 80, 443 and the application's 8000."""
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=kim.kreis-beispiel.de", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    ports = {"http": free_port(), "https": free_port()}

    def configure(application_port: int) -> Path:
        site = (DEPLOY / "nginx" / "kim.conf").read_text()
        for original, replacement in (("/etc/ssl/kim/fullchain.pem", str(certificate)),
                                      ("/etc/ssl/kim/privkey.pem", str(key)),
                                      ("127.0.0.1:8000", f"127.0.0.1:{application_port}"),
                                      ("listen 443 ", f"listen 127.0.0.1:{ports['https']} "),
                                      ("listen 80;", f"listen 127.0.0.1:{ports['http']};")):
            assert original in site, original
            site = site.replace(original, replacement)
        site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
        (tmp_path / "kim.conf").write_text(site)
        main = tmp_path / "nginx.conf"
        main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                        f"http {{ access_log {tmp_path}/access.log; include {tmp_path}/kim.conf; }}\n")
        return main

    return configure, ports, tmp_path


def test_nginx_accepts_the_site(nginx_site):
    program = nginx_program()
    configure, _ports, folder = nginx_site
    main = configure(free_port())
    result = subprocess.run([program, "-t", "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "[warn]" not in result.stderr, result.stderr


@pytest.mark.django_db(transaction=True)
def test_nginx_ends_tls_and_passes_requests_to_the_application(nginx_site, live_server):
    program = nginx_program()
    configure, ports, folder = nginx_site
    main = configure(int(live_server.url.rsplit(":", 1)[1]))
    nginx = subprocess.Popen([program, "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log"),
                              "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # the test's own certificate
    try:
        https = f"https://127.0.0.1:{ports['https']}"
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{https}/healthz", context=insecure, timeout=5) as answer:
                    status, body = answer.status, answer.read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and nginx.poll() is None, "nginx did not answer"
                time.sleep(0.2)
        assert status == 200 and body == b"ok"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{https}/metrics", context=insecure, timeout=5)
        refused.value.close()
        assert refused.value.code == 404  # the metrics stay on the machine
        with pytest.raises(urllib.error.HTTPError) as hidden:
            urllib.request.urlopen(f"{https}/healthz/worker", context=insecure, timeout=5)
        hidden.value.close()
        assert hidden.value.code == 404  # so does the worker's state
        connection = socket.create_connection(("127.0.0.1", ports["http"]), timeout=5)
        connection.sendall(b"GET /anmelden/ HTTP/1.1\r\nHost: kim.kreis-beispiel.de\r\nConnection: close\r\n\r\n")
        head = connection.recv(4096).decode()
        connection.close()
        assert head.startswith("HTTP/1.1 301") and "Location: https://kim.kreis-beispiel.de/anmelden/" in head
    finally:
        nginx.terminate()
        nginx.communicate(timeout=15)


def test_the_example_configuration_passes_the_deployment_check(tmp_path):
    """deploy/kim.env.example as it stands (with a key and a local database instead of the
    placeholders) is a clean `kim check --deploy`: the checklist of docs/betrieb.md."""
    from tests.test_deployment import run_kim

    configuration = dict(line.split("=", 1) for line in (DEPLOY / "kim.env.example").read_text().splitlines()
                         if line and not line.startswith("#"))
    for placeholder in ("DATABASE_URL", "KIM_VAR_DIR", "KIM_SECRET_KEY_FILE", "KIM_PRIVACY_LOG"):
        assert placeholder in configuration
        del configuration[placeholder]
    result = run_kim(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **configuration,
                     KIM_SECRET_KEY="x7Qp2-" + "kL9vR3mZ8wT1yB6nC4dF0gH5jS" * 3)
    assert result.returncode == 0 and "no issues" in result.stdout, result.stdout + result.stderr
