"""Channels, masters, catalog, performance and certificates through the SDK, against the real application."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enabley.client import (
    ActivityData,
    CertificateData,
    CertificateState,
    ChannelData,
    ChannelDetailsData,
    ChannelType,
    ContentItemData,
    ExternalChannelInstance,
    ItemNotExists,
    MasterChannelData,
    NotFound,
    ScheduleData,
    TrainingEventData,
    UserData,
)


@pytest.fixture
def course(sdk):
    """A course with one required item, and the learner ana."""
    sdk.channels.upsert(ChannelData(identifier="c1", name="Course 1", type=ChannelType.COURSE))
    sdk.admin.content_items.upsert("c1", ContentItemData(identifier="video", name="Video", scored=True))
    sdk.users.upsert(UserData(identifier="ana"))
    sdk.channels.assign_user("c1", "ana")
    return "c1"


def test_channels_upsert_get_and_iterate_every_page(sdk, page_size):
    page_size(2)
    made = [sdk.channels.upsert(ChannelData(identifier=f"ch{i}", name=f"Channel {i}")) for i in range(5)]
    assert all(created for _, created in made)
    _, created = sdk.channels.upsert(ChannelData(identifier="ch0", name="Renamed"))
    assert created is False
    assert sdk.channels.get("ch0").name == "Renamed"

    assert sorted(c.identifier for c in sdk.channels.iter()) == [f"ch{i}" for i in range(5)]
    assert [len(p.items) for p in sdk.channels.pages()] == [2, 2, 1]
    assert {c.identifier for c in sdk.channels.all()} == {f"ch{i}" for i in range(5)}
    future = datetime.now(UTC) + timedelta(days=1)
    assert sdk.channels.all(created_since=future) == []


def test_members_groups_and_training_events(sdk, course):
    assert sdk.channels.count_learners(course) == 1
    sdk.users.upsert(UserData(identifier="bo"))
    sdk.groups.upsert({"identifier": "team", "name": "Team"})
    sdk.groups.add_user("team", "bo")
    sdk.channels.assign_group(course, "team", recursive=True, user_role="LEARNER")
    assert sdk.channels.count_learners(course) == 2
    sdk.channels.remove_group(course, "team")
    sdk.channels.remove_user(course, "ana")
    assert sdk.channels.count_learners(course) == 0
    sdk.channels.assign_user(course, "ana", roles=["LEARNER", "INSTRUCTOR"])
    assert sdk.channels.count_learners(course) == 1

    start = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    event, created = sdk.admin.training_events.upsert(
        course, TrainingEventData(identifier="kickoff", name="Kick-off", from_date=start, optional=True)
    )
    assert created and event.from_date == start
    assert [e.name for e in sdk.channels.training_events(course)] == ["Kick-off"]
    assert sdk.admin.training_events.get(course, "kickoff").optional is True
    assert [e.identifier for e in sdk.admin.training_events.list(course)] == ["kickoff"]
    sdk.admin.training_events.delete(course, "kickoff")
    assert sdk.channels.training_events(course) == []

    assert [i.identifier for i in sdk.admin.content_items.list(course)] == ["video"]
    assert sdk.admin.content_items.get(course, "video").scored is True
    sdk.admin.content_items.delete(course, "video")
    with pytest.raises(NotFound):
        sdk.admin.content_items.get(course, "video")


def test_masters_instances_details_and_catalog(sdk, page_size):
    page_size(1)
    master, created = sdk.admin.masters.upsert(
        MasterChannelData(identifier="m1", name="Master", published=True, categories=["Safety"])
    )
    assert created and master.categories == ["Safety"]
    sdk.admin.masters.upsert({"identifier": "m2", "name": "Draft master"})
    assert sdk.admin.masters.get("m1").published is True
    assert {m.identifier for m in sdk.masters.all()} == {"m1", "m2"}
    assert [m.identifier for m in sdk.masters.all(only_published=True)] == ["m1"]
    assert sorted(m.identifier for m in sdk.masters.iter()) == ["m1", "m2"]
    assert [len(p.items) for p in sdk.masters.pages()] == [1, 1]

    start = datetime(2027, 3, 1, tzinfo=UTC)
    details = sdk.admin.channel_details.set("m1", ChannelDetailsData(schedule=ScheduleData(start_date=start)))
    assert details.schedule is not None and details.schedule.start_date == start
    assert sdk.admin.channel_details.get("m1").categories == ["Safety"]

    instance = sdk.channels.create_instance(
        ExternalChannelInstance(identifier="i1", master_course_identifier="m1", sub_account_name="EU")
    )
    assert (instance.master_channel_id, instance.master_channel_instance) == ("m1", True)
    assert sdk.channels.get("i1", include_categories=True).categories == ["Safety"]

    item, created = sdk.admin.catalog.publish("i1", sub_account_name="EU")
    assert created
    assert sdk.catalog.get("i1", sub_account_name="EU") == item
    assert [e.channel_identifier for e in sdk.admin.catalog.list()] == ["i1"]
    sdk.admin.catalog.withdraw("i1", sub_account_name="EU")
    with pytest.raises(NotFound):
        sdk.catalog.get("i1", sub_account_name="EU")


def test_activity_performance_pages_and_force_complete(sdk, course, page_size):
    page_size(2)
    row = sdk.admin.activity.record(
        ActivityData(
            user_identifier="ana",
            channel_identifier=course,
            item_identifier="video",
            completed=True,
            score=80,
        )
    )
    assert (row.progress, row.score) == (100, 80)
    for name in ("bo", "cy", "di"):
        sdk.users.upsert(UserData(identifier=name))
        sdk.channels.assign_user(course, name)
    sdk.channels.force_complete(course, "bo")

    rows = list(sdk.performance.iter(channel=course))
    assert sorted(r.external_user_id for r in rows) == ["ana", "bo", "cy", "di"]
    assert {r.external_user_id: r.progress for r in rows} == {"ana": 100, "bo": 100, "cy": 0, "di": 0}
    assert [len(p.items) for p in sdk.performance.pages(channel=course)] == [2, 2]
    assert [r.external_channel_id for r in sdk.performance.list(user="ana").items] == [course]
    assert len(sdk.performance.all(channel=course)) == 4
    assert [r.progress for r in sdk.performance.all(user="cy")] == [0]


def test_certificates_states_requirement_revoke_and_pdf(sdk, course, page_size):
    page_size(1)
    definition, created = sdk.admin.certificates.upsert(
        CertificateData(external_certificate_id="cert", name="Certified", course_ids=[course])
    )
    assert created and definition.course_ids == [course]
    sdk.admin.certificates.upsert({"externalCertificateId": "other", "name": "Other"})
    assert sdk.admin.certificates.get("cert").name == "Certified"
    assert sdk.certificates.get("cert") == definition
    assert {c.external_certificate_id for c in sdk.certificates.all()} == {"cert", "other"}
    assert sorted(c.external_certificate_id for c in sdk.certificates.iter()) == ["cert", "other"]
    assert sdk.certificates.list().total_pages == 2

    [state] = sdk.certificates.of_user("ana")
    assert state.state is CertificateState.INIT
    sdk.channels.force_complete(course, "ana")
    [state] = sdk.certificates.of_user("ana")
    assert state.state is CertificateState.CERTIFIED and state.pdf_url
    assert sdk.certificates.pdf(state.pdf_url).startswith(b"%PDF")

    assert sdk.certificates.set_requirement("cert", "ana", True).is_required is True
    assert sdk.admin.certificates.revoke("cert", "ana").state is CertificateState.REVOKED
    with pytest.raises(ItemNotExists) as caught:
        sdk.admin.certificates.confirm("other", "ana")
    assert (caught.value.status, caught.value.error) == (409, "item_not_exists")
