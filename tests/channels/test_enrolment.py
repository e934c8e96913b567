"""The learner rule, straight on the queries every domain shares (HTTP tests cover the endpoints)."""

from sqlalchemy import select

from enabley.channels import enrolment
from enabley.models import Channel, ChannelGroup, ChannelUser, Group, User, UserGroup
from tests import factories


def _user(db, account, name):
    user = User(account_id=account.id, external_id=name, possible_roles=["LEARNER"])
    db.add(user)
    db.flush()
    return user


def _group(db, account, name, parent=None):
    group = Group(account_id=account.id, external_id=name, name=name, parent_id=parent.id if parent else None)
    db.add(group)
    db.flush()
    return group


def _tree(db):
    account = factories.make_account(db)
    top = _group(db, account, "top")
    mid = _group(db, account, "mid", top)
    leaf = _group(db, account, "leaf", mid)
    other = _group(db, account, "other")
    users = {name: _user(db, account, name) for name in ("a", "b", "c", "d", "e", "f")}
    for user, group in (("a", top), ("b", mid), ("c", leaf), ("d", other), ("e", leaf)):
        db.add(UserGroup(user_id=users[user].id, group_id=group.id))
    channel = Channel(account_id=account.id, external_id="course", name="Course")
    db.add(channel)
    db.flush()
    return account, channel, users, {"top": top, "mid": mid, "leaf": leaf, "other": other}


def _learners(db, channel, users):
    ids = set(db.scalars(select(enrolment.learner_ids(channel.id).subquery().c.user_id)))
    return {name for name, user in users.items() if user.id in ids}


def test_recursive_group_reaches_descendants_and_direct_learners_count(db):
    _, channel, users, groups = _tree(db)
    db.add(ChannelGroup(channel_id=channel.id, group_id=groups["mid"].id, recursive=True))
    db.add(ChannelUser(channel_id=channel.id, user_id=users["f"].id, role="LEARNER"))
    db.add(ChannelUser(channel_id=channel.id, user_id=users["c"].id, role="LEARNER"))  # also via group
    db.flush()
    assert _learners(db, channel, users) == {"b", "c", "e", "f"}
    assert enrolment.count_learners(db, channel.id) == 4
    assert enrolment.is_learner(db, channel.id, users["e"].id)
    assert not enrolment.is_learner(db, channel.id, users["a"].id)


def test_non_recursive_group_is_its_members_only(db):
    _, channel, users, groups = _tree(db)
    db.add(ChannelGroup(channel_id=channel.id, group_id=groups["mid"].id, recursive=False))
    db.flush()
    assert _learners(db, channel, users) == {"b"}


def test_instructors_are_not_learners(db):
    _, channel, users, _ = _tree(db)
    db.add(ChannelUser(channel_id=channel.id, user_id=users["a"].id, role="INSTRUCTOR"))
    db.flush()
    assert _learners(db, channel, users) == set()
    assert enrolment.count_learners(db, channel.id) == 0


def test_membership_is_live_and_channels_of_a_learner_walk_up_the_tree(db):
    account, channel, users, groups = _tree(db)
    db.add(ChannelGroup(channel_id=channel.id, group_id=groups["top"].id, recursive=True))
    flat = Channel(account_id=account.id, external_id="flat", name="Flat")
    db.add(flat)
    db.flush()
    db.add(ChannelGroup(channel_id=flat.id, group_id=groups["top"].id, recursive=False))
    db.flush()
    leaf_member = users["e"]
    channels = set(
        db.scalars(select(enrolment.channel_ids_of_learner(leaf_member.id).subquery().c.channel_id))
    )
    assert channels == {channel.id}
    top_member = users["a"]
    channels = set(
        db.scalars(select(enrolment.channel_ids_of_learner(top_member.id).subquery().c.channel_id))
    )
    assert channels == {channel.id, flat.id}
    db.query(UserGroup).filter_by(user_id=leaf_member.id).delete()
    db.flush()
    assert "e" not in _learners(db, channel, users)
