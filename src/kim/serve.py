"""`kim serve`: the web server (gunicorn) and the background worker, watched by one process.

On one machine the worker runs beside the web server. If it dies (killed, out of memory, a
bug), `kim serve` starts it again, so that imports and committee papers never queue for ever;
if the web server ends, the worker is stopped too. Ctrl+C or SIGTERM end both. Every step is
said on the terminal, so that the operator knows what the start is waiting for."""

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time

RESTART_PAUSE_MAX = 60
# A worker that ran this long before it died had not been failing at start-up: restart at once.
HEALTHY_SECONDS = 60


def say(text: str):
    print(f"kim serve: {text}", flush=True)


def default_workers(cores: int | None) -> int:
    """gunicorn's rule of thumb, two processes per core and one more: a request mostly waits for
    the database, so a core has work while another process waits."""
    return 2 * (cores or 1) + 1


# Threads per process (gunicorn's gthread class): a slow report in one thread leaves the others
# answering, and an idle keep-alive connection no longer blocks a whole process.
DEFAULT_THREADS = 4


def count_from_environment(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"kim serve: {name} muss eine ganze Zahl ab 1 sein, nicht {raw!r}.")
    return int(raw)


def parse(argv):
    parser = argparse.ArgumentParser(prog="kim serve", description="Serve the web application.")
    parser.add_argument("--bind", default=os.environ.get("KIM_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int,
                        default=count_from_environment("KIM_WORKERS", default_workers(os.cpu_count())),
                        help="processes (default: KIM_WORKERS, else 2 per core + 1)")
    parser.add_argument("--threads", type=int,
                        default=count_from_environment("KIM_THREADS", DEFAULT_THREADS),
                        help=f"threads per process (default: KIM_THREADS, else {DEFAULT_THREADS})")
    parser.add_argument("--no-task-worker", action="store_true",
                        help="do not start the background task worker (run `kim worker` apart)")
    return parser.parse_args(argv)


def static_files_stamp() -> str:
    """A fingerprint of every static source file (name, size, time): when it is unchanged, the
    collected and compressed files are current and the slow collection can be skipped."""
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static_files():
    from django.conf import settings
    from django.core.management import call_command

    stamp_file = settings.STATIC_ROOT / ".kim-sources"
    stamp = static_files_stamp()
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        say("statische Dateien sind aktuell.")
        return
    say("statische Dateien werden gesammelt und komprimiert (beim ersten Start einige Sekunden) …")
    started = time.monotonic()
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp_file.write_text(stamp)
    say(f"statische Dateien bereit ({time.monotonic() - started:.0f} s).")


class Supervisor:
    def __init__(self, args):
        self.args = args
        self.stopping = False
        self.web = None
        self.worker = None
        self.worker_started_at = 0.0
        self.pause = 1

    def web_command(self):
        return [
            sys.executable, "-m", "gunicorn", "kim.wsgi:application", "--bind", self.args.bind,
            "--workers", str(self.args.workers), "--worker-class", "gthread", "--threads", str(self.args.threads),
            "--access-logfile", "-",
            # Longer than a proxy's or browser's idle connection (nginx keeps upstream connections
            # 60 s): with gunicorn's default of 2 s, a form sent on a connection gunicorn is just
            # closing fails without an answer (seen in bench/load.py), and a POST is not retried.
            "--keep-alive", os.environ.get("KIM_KEEP_ALIVE_SECONDS", "75"),
            # A provider's full export is streamed from a file written first: 100,000 cases take
            # about 25 s, close to gunicorn's default limit of 30 s.
            "--timeout", os.environ.get("KIM_REQUEST_TIMEOUT", "120"),
        ]

    def start_worker(self):
        self.worker = subprocess.Popen([sys.executable, "-m", "kim.cli", "worker", "--no-startup-delay"])
        self.worker_started_at = time.monotonic()
        say(f"Hintergrunddienst läuft (PID {self.worker.pid}).")

    def stop(self, signum=None, frame=None):
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        if not self.args.no_task_worker:
            self.start_worker()
        say(f"Webserver startet auf http://{self.args.bind} mit {self.args.workers} Prozessen zu je "
            f"{self.args.threads} Threads (PID folgt im Protokoll von gunicorn) …")
        self.web = subprocess.Popen(self.web_command())
        try:
            while not self.stopping:
                if self.web.poll() is not None:
                    say(f"Webserver beendet (Code {self.web.returncode}).")
                    return self.web.returncode
                self.watch_worker()
                time.sleep(0.5)
            return 0
        finally:
            self.shut_down()

    def watch_worker(self):
        if self.worker is None or self.worker.poll() is None:
            return
        ran = time.monotonic() - self.worker_started_at
        self.pause = 1 if ran > HEALTHY_SECONDS else min(self.pause * 2, RESTART_PAUSE_MAX)
        say(f"Hintergrunddienst (PID {self.worker.pid}) ist beendet (Code {self.worker.returncode}); "
            f"Neustart in {self.pause} s.")
        deadline = time.monotonic() + self.pause
        while time.monotonic() < deadline and not self.stopping:
            time.sleep(0.2)
        if not self.stopping:
            self.start_worker()

    def shut_down(self):
        say("wird beendet …")
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker):
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(argv) -> int:
    args = parse(argv)
    import django

    say("Anwendung wird geladen …")
    django.setup()
    collect_static_files()
    return Supervisor(args).run()
