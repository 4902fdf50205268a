"""Functions the sandbox tests run in a bounded child (importable without Django)."""

import datetime


class Refused(Exception):
    pass


def plain_rows():
    return [[1, "Ä", datetime.date(2020, 1, 2), None, 2.5, True]]


def allocate(n_bytes):
    return len(bytearray(n_bytes))


def spin():
    while True:
        pass


def refuse(message):
    raise Refused(message)


def fail():
    raise RuntimeError("broken")


class Evil:
    def __reduce__(self):
        return (print, ("the parent ran code of the child",))


def evil_result():
    return Evil()
