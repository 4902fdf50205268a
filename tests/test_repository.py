"""The repository holds sources, not build products."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def checkout():
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        pytest.skip("not a git checkout: the repository checks need git and its history")


def test_no_build_product_is_tracked(checkout):
    tracked = git("ls-files").splitlines()
    products = [path for path in tracked if ".egg-info/" in path or "__pycache__/" in path or path.endswith((".pyc", ".mo"))]
    assert products == []


def test_build_products_are_ignored(checkout):
    for path in ("src/kim_fachdatenbank.egg-info/PKG-INFO", "src/kim/__pycache__/x.pyc",
                 "src/kim/locale/de/LC_MESSAGES/django.mo"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT).returncode == 0, path


def test_the_documentation_points_only_at_files_in_the_repository():
    """A clone holds nothing outside itself: no link or path in README or docs may leave it."""
    import re

    pages = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../" not in text, f"{page.name} refers to a path outside the repository"
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if not re.match(r"[a-z]+:", target):
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
