"""Bounded child processes: untrusted work cannot exhaust the memory or time of the caller."""

import datetime

import pytest

from kim.core.sandbox import BoundedWorkFailed, run_bounded, run_bounded_measured

from .sandbox_targets import Refused

LIMITS = {"memory_mb": 256, "cpu_seconds": 2}


def test_it_returns_plain_data_with_dates():
    outcome = run_bounded_measured("tests.sandbox_targets:plain_rows", **LIMITS)
    assert outcome.value == [[1, "Ä", datetime.date(2020, 1, 2), None, 2.5, True]]
    assert 0 < outcome.peak_mb < 256


def test_it_stops_a_child_that_asks_for_too_much_memory():
    with pytest.raises(BoundedWorkFailed) as failure:
        run_bounded("tests.sandbox_targets:allocate", 2 * 1024**3, **LIMITS)
    assert failure.value.reason == "memory"


def test_it_stops_a_child_that_computes_too_long():
    with pytest.raises(BoundedWorkFailed) as failure:
        run_bounded("tests.sandbox_targets:spin", memory_mb=256, cpu_seconds=1)
    assert failure.value.reason == "time"


def test_it_raises_an_expected_refusal_again_with_its_message():
    with pytest.raises(Refused, match="Nein, danke"):
        run_bounded("tests.sandbox_targets:refuse", "Nein, danke", expected=(Refused,), **LIMITS)


def test_an_unexpected_error_is_a_crash():
    with pytest.raises(BoundedWorkFailed) as failure:
        run_bounded("tests.sandbox_targets:fail", **LIMITS)
    assert failure.value.reason == "crash" and "broken" in str(failure.value)


def test_the_result_cannot_make_the_parent_run_code(capsys):
    with pytest.raises(BoundedWorkFailed) as failure:
        run_bounded("tests.sandbox_targets:evil_result", **LIMITS)
    assert failure.value.reason == "crash"
    assert "the parent ran code" not in capsys.readouterr().out
