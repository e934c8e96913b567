"""The cycle collector is held off while uploads run, and given back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from enabley.collector import collector_paused
from enabley.uploads import groups_file
from tests.uploads.helpers import ok, refused, to_csv, upload


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_an_upload_runs_without_the_collector_and_gives_it_back(client, headers, monkeypatch, collector_on):
    seen: list[bool] = []
    check = groups_file.GroupsUpload.check

    def spying(self):
        seen.append(gc.isenabled())
        return check(self)

    monkeypatch.setattr(groups_file.GroupsUpload, "check", spying)
    ok(upload(client, headers, groups=to_csv(["identifier", "name"], ["g", "G"])))
    refused(upload(client, headers, groups=to_csv(["identifier", "name"], ["g", ""])))
    assert seen == [False, False]
    assert gc.isenabled()


def test_overlapping_uploads_give_it_back_when_the_last_ends(collector_on):
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
