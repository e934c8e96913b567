"""``bulk.WriteBehind``: the writes of an upload run on a thread of their own, in order, and a
failure on either side reaches the caller as the error that came first."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import InternalError, OperationalError

from enabley.db.bulk import WriteBehind


class _Aborted(Exception):
    sqlstate = "25P02"  # PostgreSQL: a statement of a transaction that already failed


def test_jobs_run_in_order_on_another_thread():
    ran: list[tuple[int, str]] = []
    with WriteBehind(threaded=True) as writer:
        for i in range(20):
            writer.submit(lambda i=i: ran.append((i, threading.current_thread().name)))
    assert [i for i, _ in ran] == list(range(20))
    assert {name for _, name in ran} == {"enabley-write-behind"}


def test_without_a_thread_jobs_run_at_once():
    ran: list[int] = []
    with WriteBehind(threaded=False) as writer:
        writer.submit(lambda: ran.append(1))
        assert ran == [1]


@pytest.mark.parametrize("threaded", [True, False])
def test_a_failed_job_stops_the_rest_and_reaches_the_caller(threaded):
    ran: list[int] = []

    def fail():
        raise RuntimeError("job failed")

    with pytest.raises(RuntimeError, match="job failed"), WriteBehind(threaded=threaded) as writer:
        writer.submit(fail)
        for i in range(5):
            writer.submit(lambda i=i: ran.append(i))
    assert ran == []


def test_the_job_error_comes_before_the_caller_finding_the_transaction_aborted():
    failed = threading.Event()

    def fail():
        failed.set()
        raise RuntimeError("duplicate key")

    with pytest.raises(RuntimeError, match="duplicate key"), WriteBehind(threaded=True) as writer:
        writer.submit(fail)
        failed.wait(5)
        raise InternalError("SELECT", None, _Aborted("current transaction is aborted"))


def test_the_caller_error_comes_before_a_job_finding_the_transaction_aborted():
    started, release = threading.Event(), threading.Event()

    def aborted():
        started.set()
        release.wait(5)
        raise InternalError("COPY", None, _Aborted("current transaction is aborted"))

    with pytest.raises(OperationalError, match="statement timeout"), WriteBehind(threaded=True) as writer:
        writer.submit(aborted)
        started.wait(5)
        release.set()
        raise OperationalError("SELECT", None, Exception("statement timeout"))
