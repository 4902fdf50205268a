"""The list of erased and anonymised keys, kept apart from the database (KIM_PRIVACY_LOG,
by default var/privacy/geloescht.jsonl), so that a backup restored after an erasure can be
made to forget again: `kim retention replay`. One JSON line per key, without personal data
(district, kind of record, its number, the deletion class). The line is written and synced
before the transaction that anonymises commits: a crash in between leaves a line for a key
that is still due, which the replay or the next run then anonymises; never the other way."""

import contextlib
import json
import os
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone

KINDS = ("case", "participant")


def path() -> Path:
    return Path(settings.KIM_PRIVACY_LOG)


_replaying = threading.local()


@contextlib.contextmanager
def replaying():
    """While the log itself is being replayed: its keys are in it already, nothing is added."""
    _replaying.value = True
    try:
        yield
    finally:
        _replaying.value = False


def append(district, kind: str, pk: int, deletion_class: str):
    if kind not in KINDS:
        raise ValueError(kind)
    if getattr(_replaying, "value", False):
        return
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": timezone.now().isoformat(timespec="seconds"), "district": district.slug,
                       "kind": kind, "id": pk, "class": deletion_class}, ensure_ascii=False)
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def entries():
    """The log's lines, oldest first; a torn last line (a crash while writing) is skipped."""
    target = path()
    if not target.exists():
        return
    with target.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("kind") in KINDS and isinstance(entry.get("id"), int):
                yield entry
