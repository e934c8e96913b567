"""Insert, or find what a concurrent request inserted: one helper for every create-or-update."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from enabley.certificates import service as certificates_service
from enabley.certificates.schemas import CertificateData
from enabley.db.upsert import add, insert_or_find
from enabley.errors import ServiceUnavailable
from enabley.models import ChannelItem, Workspace
from enabley.profiles import service as profiles_service
from enabley.profiles.schemas import UserProfileData
from enabley.workspaces import service as workspaces_service
from enabley.workspaces.schemas import WorkspaceData
from tests import factories


class Calls:
    def __init__(self, *answers):
        self.answers, self.count = list(answers), 0

    def __call__(self):
        self.count += 1
        return self.answers.pop(0)


def test_an_insert_that_succeeds_is_created_without_a_lookup():
    find = Calls()
    assert insert_or_find(Calls("row"), find) == ("row", True)
    assert find.count == 0


def test_an_insert_that_lost_the_race_answers_the_row_found_then():
    insert, find = Calls(None), Calls("theirs")
    assert insert_or_find(insert, find) == ("theirs", False)
    assert (insert.count, find.count) == (1, 1)


def test_a_row_gone_again_after_the_lost_race_is_a_503_not_a_loop():
    insert, find = Calls(None), Calls(None)
    with pytest.raises(ServiceUnavailable):
        insert_or_find(insert, find)
    assert (insert.count, find.count) == (1, 1)


def test_add_answers_none_on_a_taken_key_and_the_unit_goes_on(db, account):
    db.add(Workspace(account_id=account.id, external_id="w1", name="first"))
    db.flush()
    assert add(db, Workspace(account_id=account.id, external_id="w1", name="second")) is None
    assert (
        db.scalar(select(func.count()).select_from(Workspace).where(Workspace.account_id == account.id)) == 1
    )


def test_add_raises_an_integrity_error_that_is_not_a_taken_key(db, account):
    orphan = ChannelItem(
        account_id=account.id, channel_id=2**31 - 1, external_id="i", kind="CONTENT", name="i"
    )
    with pytest.raises(IntegrityError):
        add(db, orphan)


class BlindOnce:
    """The session, whose first ``scalar`` misses: as if a concurrent creator had not committed yet."""

    def __init__(self, session):
        self._session, self.blind = session, True

    def scalar(self, *args, **kwargs):
        if self.blind:
            self.blind = False
            return None
        return self._session.scalar(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._session, name)


def test_a_workspace_created_meanwhile_is_updated(db, account):
    tenant = SimpleNamespace(account_id=account.id)
    workspaces_service.upsert_workspace(db, tenant, WorkspaceData(identifier="w1", name="First"))
    workspace, created = workspaces_service.upsert_workspace(
        BlindOnce(db), tenant, WorkspaceData(identifier="w1", name="Second")
    )
    assert (created, workspace.name) == (False, "Second")


def test_a_profile_created_meanwhile_is_updated(db, account):
    tenant = SimpleNamespace(account_id=account.id)
    profiles_service.upsert_profile(db, tenant, UserProfileData(identifier="p1", name="First"))
    profile, created = profiles_service.upsert_profile(
        BlindOnce(db), tenant, UserProfileData(identifier="p1", name="Second")
    )
    assert (created, profile.name) == (False, "Second")


def test_a_certificate_created_meanwhile_keeps_the_courses_the_update_leaves_out(db, account):
    tenant = SimpleNamespace(account_id=account.id)
    factories.make_channel(db, account, "c1")
    certificates_service.upsert_certificate(
        db, tenant, CertificateData(external_certificate_id="x", name="First", course_ids=["c1"])
    )
    info, created = certificates_service.upsert_certificate(
        BlindOnce(db), tenant, CertificateData(external_certificate_id="x", name="Second")
    )
    assert (created, info.name, info.course_ids) == (False, "Second", ["c1"])
