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


def read_upload(data, filename, names):
    """The reading step as the web or worker process runs it (the parser in a child of this
    child): how much memory the importing process needs to hold what was read."""
    from kim.exchange.readers import read_sheets

    return {name: len(sheet.rows) for name, sheet in read_sheets(data, filename, names).items()}


def import_readers():
    """The same process without reading anything: the baseline for `read_upload`."""
    import kim.exchange.readers  # noqa: F401
