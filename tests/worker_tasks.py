"""A task for the worker tests: leaves a file behind, so the test sees that it ran."""

from pathlib import Path

from django_tasks import task


@task()
def touch(path: str):
    Path(path).write_text("ran")
