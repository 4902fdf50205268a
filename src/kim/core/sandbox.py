"""Work on untrusted input in a child process whose memory and CPU time are bounded.

A crafted spreadsheet can make a parser ask for hundreds of gigabytes, and a Word template
can compute for minutes. Neither may take down the web or worker process that received it:
an allocation that fails inside a Rust or C library aborts the whole process, which no
`try` can catch. So such work runs here, in a fresh Python child with `RLIMIT_AS` (address
space) and `RLIMIT_CPU` set before the work starts, and a wall-clock timeout on top.

The arguments go to the child by pickle (the parent is trusted). The result comes back
through an unpickler that builds plain data only (numbers, text, bytes, lists, tuples,
dicts, sets, dates and times), so that a child misled by its input cannot make the parent
run code. The child never touches the database and does not set up Django.

    rows = run_bounded("kim.exchange.readers:read_sheet", data, "Tabelle1",
                       memory_mb=1024, cpu_seconds=60, expected=(FileRefused,))
"""

import importlib
import io
import os
import pickle
import resource
import subprocess
import sys
from dataclasses import dataclass

# Exit codes of the child, so that the parent can tell why it stopped.
EXIT_OK, EXIT_RAISED, EXIT_MEMORY = 0, 3, 4
MB = 1024 * 1024


class BoundedWorkFailed(Exception):
    """The child ran out of memory or time, or crashed. `reason` is "memory", "time" or
    "crash"; the message is for the operator's log, not for the user."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Outcome:
    """What the child returned, and the most memory it held (resident, in MB)."""

    value: object
    peak_mb: float


# ---------------------------------------------------------------- parent side

def run_bounded(target: str, *args, memory_mb: int, cpu_seconds: int, wall_seconds: float | None = None,
                expected: tuple = ()) -> object:
    """Call `target` ("package.module:function") with `args` in a bounded child and return
    its result. An exception of a class in `expected` raised by the target is raised here
    again with the same message (e.g. a refusal with a German text for the user); anything
    else that goes wrong raises `BoundedWorkFailed`."""
    return run_bounded_measured(target, *args, memory_mb=memory_mb, cpu_seconds=cpu_seconds,
                                wall_seconds=wall_seconds, expected=expected).value


def run_bounded_measured(target: str, *args, memory_mb: int, cpu_seconds: int,
                         wall_seconds: float | None = None, expected: tuple = ()) -> Outcome:
    """As `run_bounded`, with the child's peak memory (for tests and benchmarks)."""
    payload = pickle.dumps((target, args, memory_mb, cpu_seconds), protocol=pickle.HIGHEST_PROTOCOL)
    wall = wall_seconds if wall_seconds is not None else cpu_seconds * 2 + 10
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "kim.core.sandbox"], input=payload, capture_output=True, timeout=wall,
            env=_child_environment(), check=False,
        )
    except subprocess.TimeoutExpired:
        raise BoundedWorkFailed("time", f"{target} ran longer than {wall:.0f} s") from None
    code = completed.returncode
    if code == EXIT_OK:
        status, value, peak_mb = _load_plain(completed.stdout)
        return Outcome(value, peak_mb)
    if code == EXIT_RAISED:
        class_path, message = _load_plain(completed.stdout)
        for exception_class in expected:
            if class_path == f"{exception_class.__module__}.{exception_class.__qualname__}":
                raise exception_class(message)
        raise BoundedWorkFailed("crash", f"{target} raised {class_path}: {message}")
    if code == EXIT_MEMORY or code == -6:  # MemoryError in Python, or an aborted allocation in native code
        raise BoundedWorkFailed("memory", f"{target} needed more than {memory_mb} MB")
    if code in (-24, -9):  # SIGXCPU at the soft CPU limit, SIGKILL at the hard one
        raise BoundedWorkFailed("time", f"{target} used more than {cpu_seconds} s of CPU time")
    raise BoundedWorkFailed("crash", f"{target} exited with {code}: {completed.stderr[-500:].decode(errors='replace')}")


def _child_environment() -> dict:
    environment = dict(os.environ)
    # The child must not start Django, nor inherit a settings module it would then import.
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


class PlainUnpickler(pickle.Unpickler):
    """Builds containers and scalars; refuses every class but dates and times."""

    ALLOWED = {
        ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
        ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return getattr(importlib.import_module(module), name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _load_plain(data: bytes):
    try:
        return PlainUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # noqa: BLE001 - whatever the child wrote, it is not a result
        raise BoundedWorkFailed("crash", f"unreadable result: {exc}") from None


# ---------------------------------------------------------------- child side

def _limit(memory_mb: int, cpu_seconds: int):
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))
    # The soft limit sends SIGXCPU; the hard one, a second later, SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _peak_mb() -> float:
    """The child's own high-water mark of resident memory. Not `ru_maxrss`: Linux carries that
    over an exec from the forked copy of the parent, so a child of a 400 MB test runner would
    report 400 MB before doing anything."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def _child_main():
    out = sys.stdout.buffer
    target, args, memory_mb, cpu_seconds = pickle.load(sys.stdin.buffer)
    _limit(memory_mb, cpu_seconds)
    try:
        module_name, function_name = target.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        value = function(*args)
        result = pickle.dumps(("ok", value, _peak_mb()), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
        message = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
        out.write(pickle.dumps((f"{type(exc).__module__}.{type(exc).__qualname__}", message)))
        out.flush()
        os._exit(EXIT_RAISED)
    out.write(result)
    out.flush()
    os._exit(EXIT_OK)


if __name__ == "__main__":
    _child_main()
