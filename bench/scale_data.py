"""Benchmark data at scale: an account of 10,000, 100,000 or 1,000,000 users, built once per
generator version, then reused (and migrated to the checkout's head revision when loaded, as an
operator's database would be).

What an account holds (the same for the same size, every time):

- groups in a 5-level tree (Division, Region, Country, City, Team): one division of 281 groups
  (1 + 4 + 16 + 60 + 200) per 100,000 users, every team at depth 5; each user is in one team of
  his division, and a third of the users also in a city or country of it;
- users with every column, 50 profiles (one or two each), sub-accounts EU and US;
- 200 channels of 3 to 6 content items each (quizzes and SCORM packages scored, some optional);
- group enrolments: every city recursively and half of the teams directly, each to one channel;
  direct enrolments: 0 to 2 channels a user, and a few instructors;
- activity: each user active in 1 to 3 of the channels he learns in, 1 to 3 items each;
- 40 certificates over 1 to 3 courses, and some users' "required" facts;
- each learner's standing in each certificate, computed once the rows are in (what the services
  keep as they write);
- compliance: certificate ``cert-00`` (the tree channel, valid one year) required for every user
  of division 0, 70% of whom completed it over the last 420 days (so that some are expired and
  some about to expire), 10% started it.

And the channels a benchmark looks for (see ``Dataset``): ``tree_channel``, enrolled only through
the root of division 0 (recursive), whose subtree holds min(users, 100,000) users;
``perf_channel``, enrolled through the 200 teams of division 0 and directly for every other one of
its users, each of them with 1 to 3 progress rows there; ``busy_user``, a learner of all 200
channels with activity in each.

Everything goes through the project's own paths: groups and users through the organisation
upload (``uploads.service.read_files`` + ``upload_org``, 100,000 users per call), profiles,
channels, items, certificates and the two benchmark channels' group enrolments through their
context, and the large row sets (enrolments, progress, certificate facts) through the upload's
``BulkInsert``. SQLite: ``bench/.cache/scale-<users>-v<N>.db``; PostgreSQL: a database
``enabley_scale_<users>_v<N>`` kept on the server; the ``Dataset`` of either in
``bench/.cache/scale-<users>-v<N>.<backend>.json``. Either is built under a temporary name
and takes its real name only once complete and checked; an interrupted build is dropped by the
next build of its size. PostgreSQL gets a VACUUM ANALYZE; SQLite is left as the server would
leave it (no ANALYZE: the server never runs one). A server given the cached database writes to
it: a benchmark that changes data should work on a copy, or rebuild (``--rebuild``) afterwards.

Measured build times: ``python -m bench.scale_data --backend B --users N`` on x86_64, 2 cores,
CPython 3.11, PostgreSQL 15 on the same machine, 2026-11-27. The first column was measured with
other work running, before the upload's row shortcut; the 1M builds again on a quiet machine
after it (``--rebuild``). Seconds of the build itself; the process's peak RSS; the size of what
is cached:

| users     | SQLite                    | PostgreSQL                | peak RSS |
|-----------|--------------------------:|--------------------------:|---------:|
| 10,000    |    11.6 s (14 MB file)    |    27.2 s (34 MB database)|   150 MB |
| 100,000   |    80.7 s (123 MB)        |   138.0 s (179 MB)        |   265 MB |
| 1,000,000 |   486 s (1.0 GB)          |   630 s (1.3 GB)          |   330 MB |
| 1,000,000, quiet, after | 120 s       |   320 s                   |          |

The quiet 1M builds: the uploads 75 s (SQLite) and 176 s (PostgreSQL), the enrolments and
activity (1.05M direct enrolments, 3.8M progress rows) 43 s and 138 s, VACUUM ANALYZE 2 s. The
10,000-user SQLite build took 2.5 s on a fresh clone. A cached dataset answers in about 3 s
(imports included).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import org_data
from enabley import migrate
from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.certificates import service as certificates_service
from enabley.certificates.schemas import CertificateData
from enabley.channels import assignments, enrolment
from enabley.channels import items as channel_items
from enabley.channels import service as channels_service
from enabley.channels.schemas import ChannelData, ContentItemData
from enabley.compliance import standings, tallies
from enabley.config import Settings
from enabley.db.bulk import BulkInsert
from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.groups import service as groups_service
from enabley.models import (
    Certificate,
    CertificateCourse,
    Channel,
    ChannelGroup,
    ChannelItem,
    ChannelUser,
    Group,
    ItemProgress,
    User,
    UserCertificate,
)
from enabley.profiles import service as profiles_service
from enabley.profiles.schemas import UserProfileData
from enabley.security import ensure_server_keys
from enabley.uploads import service as uploads_service

GENERATOR_VERSION = 2
"""Bump whenever the generated data changes: cached builds of another version are rebuilt."""

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 20261127
ACCOUNT = "bench"
SUB_ACCOUNTS = ("EU", "US")

HIERARCHY = ("Division", "Region", "Country", "City", "Team")
PER_DIVISION = (1, 4, 16, 60, 200)
DIVISION, REGION, COUNTRY, CITY, TEAM = range(5)
DIVISION_USERS = 100_000
"""Users per division: the tree channel's and the perf channel's learners are one division."""

UPLOAD_USERS = 100_000  # users per upload call
SLICE_USERS = 10_000  # users whose enrolments and activity are written in one transaction

CHANNELS = 200
TREE, PERF = 0, 1
GENERAL = range(2, CHANNELS)  # channels of the ordinary enrolments
ITEM_TYPES = ("VIDEO", "DOCUMENT", "QUIZ", "SCORM", "LINK", "VIDEO")
SCORED_TYPES = {"QUIZ", "SCORM"}
CERTIFICATES = 40
COMPLIANCE_CERTIFICATE = 0  # required for every user of division 0 (the tree channel's learners)
COMPLIANCE_DAYS = 420  # its completions spread over this many days before the build
SAMPLE_USERS = 1000
MIN_USERS = SAMPLE_USERS

RARE_USERS = 200  # about this many users carry each searchable mark, whatever the size
EMAIL_MARK, RARE_DOMAIN = "quokka", "quokka-partners.example.net"
LAST_NAME_MARK, RARE_LAST_NAME = "ciechow", "Wojciechowska"
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")

_PROGRESS_KEYS = ("user_id", "item_id", "channel_id", "completed", "score", "completed_at", "updated_at")
_INSERT_PROGRESS = BulkInsert(cast(Table, ItemProgress.__table__), _PROGRESS_KEYS)
_INSERT_CHANNEL_USERS = BulkInsert(cast(Table, ChannelUser.__table__), ("channel_id", "user_id", "role"))
_INSERT_CHANNEL_GROUPS = BulkInsert(
    cast(Table, ChannelGroup.__table__), ("channel_id", "group_id", "recursive", "role")
)
_INSERT_USER_CERTIFICATES = BulkInsert(
    cast(Table, UserCertificate.__table__), ("user_id", "certificate_id", "is_required")
)


@dataclass(frozen=True)
class Dataset:
    backend: str  # "sqlite" | "postgresql"
    users: int  # number of users in the account
    url: str  # SQLAlchemy URL to give the server as ENABLEY_DATABASE_URL
    client_key: str
    secret: str
    sample_users: tuple[str, ...]  # 1,000 existing user identifiers spread evenly over the whole account
    tree_channel: (
        str  # enrolled ONLY through one group whose recursive subtree holds min(users, 100_000) users
    )
    tree_channel_learners: int  # its exact learner count (what .../members/count answers)
    perf_channel: str  # a channel with min(users, 100_000) learners who have activity rows in it
    busy_user: str  # a learner of all 200 channels, with activity in each
    busy_user_certificates: int  # certificates connected to busy_user
    email_substring: str  # a substring of emails matching a small number (10..1000) of users
    last_name_substring: str  # same for last names
    build_seconds: float | None  # seconds spent building in this call, None when it came from the cache


# --- what the account holds: pure functions of the size --------------------------------------


def user_id_of(index: int) -> str:
    return f"user-{index}"


def channel_id_of(index: int) -> str:
    return f"ch-{index:03d}"


def certificate_id_of(index: int) -> str:
    return f"cert-{index:02d}"


def divisions(users: int) -> int:
    return -(-users // DIVISION_USERS)


def tree_size(users: int) -> int:
    """Users of division 0: the tree channel's and the perf channel's learners."""
    return min(users, DIVISION_USERS)


def busy_index(users: int) -> int:
    return tree_size(users) // 2 + 3


def sample_indexes(users: int) -> list[int]:
    return [k * users // SAMPLE_USERS for k in range(SAMPLE_USERS)]


def _rare_step(users: int) -> int:
    return max(1, users // RARE_USERS)


def has_rare_email(index: int, users: int) -> bool:
    step = _rare_step(users)
    return index % step == 7 % step


def has_rare_last_name(index: int, users: int) -> bool:
    step = _rare_step(users)
    return index % step == (step // 2 + 1) % step


@dataclass
class Tree:
    """The groups: parallel lists by group index, parents listed before their children."""

    identifiers: list[str]
    names: list[str]
    levels: list[int]
    parents: list[int]  # -1 for a division
    sub_accounts: list[str]
    by_level: list[list[list[int]]]  # [division][level] -> group indexes

    @classmethod
    def of(cls, users: int) -> Tree:
        rnd = random.Random(f"{SEED}-groups")
        tree = cls([], [], [], [], [], [])
        for d in range(divisions(users)):
            levels: list[list[int]] = []
            for level, count in enumerate(PER_DIVISION):
                above = levels[level - 1] if level else []
                here = []
                for j in range(count):
                    # The first children go one to each parent: every path runs down five levels.
                    parent = -1 if not level else above[j] if j < len(above) else rnd.choice(above)
                    here.append(len(tree.identifiers))
                    tree.identifiers.append(f"d{d}-{HIERARCHY[level].lower()}-{j}")
                    tree.names.append(f"{HIERARCHY[level]} {j}" + (f" (division {d})" if d else ""))
                    tree.levels.append(level)
                    tree.parents.append(parent)
                    tree.sub_accounts.append(rnd.choice(["", "", "EU", "US"]) if level else "")
                levels.append(here)
            tree.by_level.append(levels)
        return tree

    def groups_csv(self) -> str:
        rows = [
            [ident, name, self.identifiers[parent] if parent >= 0 else "", HIERARCHY[level], sub]
            for ident, name, parent, level, sub in zip(
                self.identifiers, self.names, self.parents, self.levels, self.sub_accounts, strict=True
            )
        ]
        return org_data.to_csv(org_data.GROUP_COLUMNS, rows)


@dataclass
class Enrolments:
    """Which channel each city (recursively) and some teams (directly) are enrolled in."""

    city_channel: dict[int, int]
    team_channel: dict[int, int]

    @classmethod
    def of(cls, tree: Tree) -> Enrolments:
        rnd = random.Random(f"{SEED}-enrolments")
        cities, teams = {}, {}
        for levels in tree.by_level:
            for city in levels[CITY]:
                cities[city] = rnd.choice(GENERAL)
            for team in levels[TEAM]:
                if rnd.random() < 0.5:
                    teams[team] = rnd.choice(GENERAL)
        return cls(cities, teams)


@dataclass(frozen=True)
class ChannelPlan:
    identifier: str
    name: str
    type: str
    sub_account: str | None
    items: tuple[ContentItemData, ...]


def channel_plans() -> list[ChannelPlan]:
    rnd = random.Random(f"{SEED}-channels")
    plans = []
    for k in range(CHANNELS):
        count = 3 + k % 4
        items = tuple(
            ContentItemData.model_validate(
                {
                    "identifier": f"item-{j}",
                    "name": f"Lesson {j + 1}",
                    "type": ITEM_TYPES[j],
                    "optional": count >= 5 and j == count - 1,
                    "durationSeconds": rnd.randrange(60, 3600),
                    "scored": ITEM_TYPES[j] in SCORED_TYPES,
                }
            )
            for j in range(count)
        )
        name = {TREE: "Company-wide onboarding", PERF: "Compliance essentials"}.get(k, f"Course {k}")
        plans.append(
            ChannelPlan(
                identifier=channel_id_of(k),
                name=name,
                type="STREAM" if k % 10 == 9 else "COURSE",
                sub_account=rnd.choice([None, None, None, "EU", "US"]) if k > PERF else None,
                items=items,
            )
        )
    return plans


def certificate_plans() -> list[CertificateData]:
    rnd = random.Random(f"{SEED}-certificates")
    plans = []
    for k in range(CERTIFICATES):
        if k == 0:
            courses = [TREE]
        elif k == 1:
            courses = [PERF, 2]
        else:
            courses = rnd.sample(GENERAL, rnd.randint(1, 3))
        body: dict[str, Any] = {
            "externalCertificateId": certificate_id_of(k),
            "name": f"Certificate {k}",
            "courseIds": [channel_id_of(c) for c in courses],
            "requiresLearnerConfirmation": k % 7 == 6,
        }
        if k % 3 == 2 or k == COMPLIANCE_CERTIFICATE:
            body["expiration"] = {"duration": 1 + k % 3, "period": "YEAR"}
        plans.append(CertificateData.model_validate(body))
    return plans


@dataclass
class UserChunk:
    """Users ``start`` to ``stop`` (exclusive): their users.csv, and each one's groups by index."""

    start: int
    stop: int
    csv: str
    teams: array[int]
    seconds: array[int]  # a second group (a city or a country) or -1


def user_chunk(tree: Tree, users: int, start: int, stop: int) -> UserChunk:
    rnd = random.Random(f"{SEED}-users-{start}")
    profiles = org_data.profile_ids()
    teams, seconds = array("i"), array("i")
    rows: list[list[str]] = []
    for i in range(start, stop):
        levels = tree.by_level[i // DIVISION_USERS]
        team = rnd.choice(levels[TEAM])
        draw = rnd.random()
        second = rnd.choice(levels[CITY]) if draw < 0.2 else rnd.choice(levels[COUNTRY]) if draw < 0.3 else -1
        teams.append(team)
        seconds.append(second)
        groups = tree.identifiers[team] + (f";{tree.identifiers[second]}" if second >= 0 else "")
        domain = RARE_DOMAIN if has_rare_email(i, users) else rnd.choice(DOMAINS)
        last = RARE_LAST_NAME if has_rare_last_name(i, users) else rnd.choice(org_data.LAST)
        rows.append(
            [
                user_id_of(i),
                f"user{i}@{domain}",
                rnd.choice(org_data.FIRST),
                last,
                f"user.{i}",
                f"+55 11 5555 {i % 10000:04d}",
                f"Rua {rnd.randrange(1, 2000)}, São Paulo",
                "true" if rnd.random() > 0.05 else "false",
                rnd.choice(org_data.ROLES),
                rnd.choice(["EU", "US", ""]),
                groups,
                ";".join(rnd.sample(profiles, rnd.randint(1, 2))),
            ]
        )
    return UserChunk(start, stop, org_data.to_csv(org_data.USER_COLUMNS, rows), teams, seconds)


# --- progress and timings -------------------------------------------------------------------


class Reporter:
    """Progress of the build's phases (rich bars on a terminal, else a line every few seconds) and
    the seconds spent in each."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.seconds: dict[str, float] = {}
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._printed: dict[str, float] = {}
        self._tasks: dict[str, Any] = {}
        self._bars: Any = None
        self._started = time.perf_counter()
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bars = Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )

    def __enter__(self) -> Reporter:
        if self._bars is not None:
            self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bars is not None:
            self._bars.stop()

    def say(self, message: str) -> None:
        if not self.enabled:
            return
        line = f"[{time.perf_counter() - self._started:7.1f} s] {message}"
        if self._bars is not None:
            self._bars.console.print(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def task(self, name: str, total: int) -> None:
        self._totals[name], self._done[name] = total, 0
        self._printed[name] = 0.0
        if self._bars is not None:
            self._tasks[name] = self._bars.add_task(name, total=total)

    def advance(self, name: str, count: int) -> None:
        self._done[name] += count
        if self._bars is not None:
            self._bars.advance(self._tasks[name], count)
            return
        now = time.perf_counter()
        done, total = self._done[name], self._totals[name]
        if done >= total or now - self._printed[name] >= 5:
            self._printed[name] = now
            self.say(f"{name}: {done:,}/{total:,}")

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start

    def summary(self) -> str:
        return ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in self.seconds.items())


# --- the build ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The account, as the context scope their queries by it."""

    account_id: int


@dataclass
class Ids:
    """Database ids of what the build made, by the generator's own indexes."""

    account: int = 0
    groups: dict[str, int] | None = None
    channels: list[int] | None = None
    items: list[list[tuple[int, bool, bool]]] | None = None  # per channel: (id, scored, optional)
    certificates: list[int] | None = None
    busy_user: int = 0


class Builder:
    def __init__(self, url: str, users: int, reporter: Reporter) -> None:
        self.url, self.users, self.reporter = url, users, reporter
        self.tree = Tree.of(users)
        self.enrolments = Enrolments.of(self.tree)
        self.ids = Ids()
        self.db = Database(make_engine(url, timeout=600))
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        # A few hundred distinct instants over the last half year (the bulk insert memoises them).
        self.times = [now - timedelta(hours=6 * k + 1) for k in range(720)]

    def close(self) -> None:
        self.db.dispose()

    @property
    def account(self) -> Scope:
        return Scope(self.ids.account)

    def build(self) -> dict[str, Any]:
        r = self.reporter
        with r.timed("setup"):
            migrate.upgrade(self.url)
            creds = self.setup()
        with r.timed("channels"):
            self.channels()
        with r.timed("certificates"):
            self.certificates()
        r.task("users uploaded", self.users)
        r.task("enrolments+activity", self.users)
        for start in range(0, self.users, UPLOAD_USERS):
            stop = min(start + UPLOAD_USERS, self.users)
            with r.timed("users (upload)"):
                chunk = user_chunk(self.tree, self.users, start, stop)
                user_ids = self.upload(chunk, with_groups=start == 0)
            if start == 0:
                with r.timed("group enrolments"):
                    self.group_enrolments()
            with r.timed("enrolments+activity"):
                self.activity(chunk, user_ids)
        with r.timed("busy user"):
            self.busy_user()
        # The progress and facts above went in as rows, around the services that keep them.
        with r.timed("certificate standings"), self.db.session(write=True) as session:
            standings.refresh_account(session, self.account)
        with r.timed("compliance tallies"), self.db.session(write=True) as session:
            tallies.recount_account(session, self.account)
        return creds

    def setup(self) -> dict[str, str]:
        with self.db.session(write=True) as session:
            ensure_server_keys(session, Settings(database_url=self.url))
            account = accounts_service.create_account(session, ACCOUNT, SUB_ACCOUNTS)
            self.ids.account = account.id
            client, secret = auth_service.create_client(session, ACCOUNT)
            groups_service.set_hierarchy(session, account, HIERARCHY)
            for profile in org_data.profile_ids():
                data = UserProfileData(identifier=profile, name=f"Profile {profile.split('-')[1]}")
                profiles_service.upsert_profile(session, account, data)
            return {"client_key": client.client_key, "secret": secret}

    def channels(self) -> None:
        plans = channel_plans()
        self.reporter.task("channels", len(plans))
        with self.db.session(write=True) as session:
            for plan in plans:
                data = ChannelData.model_validate(
                    {
                        "identifier": plan.identifier,
                        "name": plan.name,
                        "type": plan.type,
                        "subAccountName": plan.sub_account,
                    }
                )
                channels_service.upsert_channel(session, self.account, data)
                for item in plan.items:
                    channel_items.upsert_content_item(session, self.account, plan.identifier, item)
                self.reporter.advance("channels", 1)
            by_identifier = dict(
                session.execute(
                    select(Channel.external_id, Channel.id).where(Channel.account_id == self.ids.account)
                ).all()
            )
            channel_ids = [by_identifier[plan.identifier] for plan in plans]
            items: dict[int, list[tuple[int, bool, bool]]] = {}
            for channel_id, item_id, scored, optional in session.execute(
                select(ChannelItem.channel_id, ChannelItem.id, ChannelItem.scored, ChannelItem.optional)
                .where(ChannelItem.account_id == self.ids.account)
                .order_by(ChannelItem.id)
            ):
                items.setdefault(channel_id, []).append((item_id, scored, optional))
        self.ids.channels = channel_ids
        self.ids.items = [items[channel_id] for channel_id in channel_ids]

    def certificates(self) -> None:
        plans = certificate_plans()
        with self.db.session(write=True) as session:
            for plan in plans:
                certificates_service.upsert_certificate(session, self.account, plan)
            by_identifier = dict(
                session.execute(
                    select(Certificate.external_id, Certificate.id).where(
                        Certificate.account_id == self.ids.account
                    )
                ).all()
            )
        self.ids.certificates = [by_identifier[plan.external_certificate_id] for plan in plans]

    def upload(self, chunk: UserChunk, *, with_groups: bool) -> array[int]:
        """Upload the chunk's users (and the groups with the first); answers their ids by index."""
        files = [{"fileName": "users.csv", "content": chunk.csv}]
        if with_groups:
            files.insert(0, {"fileName": "groups.csv", "content": self.tree.groups_csv()})
        raw = json.dumps({"files": files}, ensure_ascii=False).encode()
        chunk.csv = ""
        with uploads_service.read_files(io.BytesIO(raw)) as read, self.db.session(write=True) as session:
            del raw
            last = session.scalar(select(func.coalesce(func.max(User.id), 0))) or 0
            answer = uploads_service.upload_org(session, self.account, read)
        expected = chunk.stop - chunk.start
        groups = len(self.tree.identifiers) if with_groups else 0
        if answer.created.users != expected or answer.created.groups != groups:
            raise RuntimeError(f"upload of users {chunk.start:,}..{chunk.stop:,} answered {answer}")
        ids = array("q", bytes(8 * expected))
        with self.db.session() as session:
            for user_id, identifier in session.execute(
                select(User.id, User.external_id).where(User.account_id == self.ids.account, User.id > last)
            ):
                ids[int(identifier.removeprefix("user-")) - chunk.start] = user_id
            if with_groups:
                self.ids.groups = dict(
                    session.execute(
                        select(Group.external_id, Group.id).where(Group.account_id == self.ids.account)
                    ).all()
                )
        if 0 in ids:
            raise RuntimeError(f"users {chunk.start:,}..{chunk.stop:,}: some were not found after the upload")
        if chunk.start <= busy_index(self.users) < chunk.stop:
            self.ids.busy_user = ids[busy_index(self.users) - chunk.start]
        self.reporter.advance("users uploaded", expected)
        return ids

    def group_enrolments(self) -> None:
        """The tree and perf channels through their service; the ordinary ones in bulk."""
        tree, groups, account = self.tree, self.ids.groups, self.account
        assert groups is not None and self.ids.channels is not None
        channels = self.ids.channels
        with self.db.session(write=True) as session:
            root = tree.identifiers[tree.by_level[0][DIVISION][0]]
            assignments.assign_group(session, account, channel_id_of(TREE), root, recursive=True)
            for team in tree.by_level[0][TEAM]:
                assignments.assign_group(
                    session, account, channel_id_of(PERF), tree.identifiers[team], recursive=False
                )
            rows = [
                (channels[channel], groups[tree.identifiers[group]], recursive, enrolment.LEARNER)
                for assigned, recursive in (
                    (self.enrolments.city_channel, True),
                    (self.enrolments.team_channel, False),
                )
                for group, channel in assigned.items()
            ]
            _INSERT_CHANNEL_GROUPS.run(session, rows)

    def activity(self, chunk: UserChunk, user_ids: array[int]) -> None:
        for start in range(chunk.start, chunk.stop, SLICE_USERS):
            stop = min(start + SLICE_USERS, chunk.stop)
            enrolled, progress, facts = self._slice(chunk, user_ids, start, stop)
            with self.db.session(write=True) as session:
                _INSERT_CHANNEL_USERS.run(session, enrolled)
                _INSERT_PROGRESS.run(session, progress)
                _INSERT_USER_CERTIFICATES.run(session, facts)
            self.reporter.advance("enrolments+activity", stop - start)

    def _slice(
        self, chunk: UserChunk, user_ids: array[int], start: int, stop: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Direct enrolments, progress rows and certificate facts of users ``start`` to ``stop``."""
        assert self.ids.channels is not None and self.ids.items is not None
        assert self.ids.certificates is not None
        rnd = random.Random(f"{SEED}-activity-{start}")
        # Its own generator: the compliance rows leave every other row as version 1 drew it.
        compliance = random.Random(f"{SEED}-compliance-{start}")
        channels, items = self.ids.channels, self.ids.items
        parents, levels = self.tree.parents, self.tree.levels
        cities, teams = self.enrolments.city_channel, self.enrolments.team_channel
        busy = busy_index(self.users)
        learner, instructor = enrolment.LEARNER, enrolment.INSTRUCTOR
        enrolled: list[tuple[Any, ...]] = []
        progress: list[tuple[Any, ...]] = []
        facts: list[tuple[Any, ...]] = []

        def record(user_id: int, channel: int, count: int) -> None:
            for item_id, scored, _ in rnd.sample(items[channel], min(count, len(items[channel]))):
                at = rnd.choice(self.times)
                if rnd.random() < 0.65:
                    score = rnd.randrange(40, 101) if scored else None
                    progress.append((user_id, item_id, channels[channel], True, score, at, at))
                else:
                    progress.append((user_id, item_id, channels[channel], False, None, None, at))

        for i in range(start, stop):
            if i == busy:
                continue  # his rows are written on their own (busy_user)
            user_id = user_ids[i - chunk.start]
            mark = len(progress)
            team, second = chunk.teams[i - chunk.start], chunk.seconds[i - chunk.start]
            direct = rnd.sample(GENERAL, rnd.choice((0, 1, 1, 2)))
            enrolled.extend((channels[c], user_id, learner) for c in direct)
            if i % 997 == 0:
                enrolled.append((channels[rnd.choice(GENERAL)], user_id, instructor))
            learns = {cities[parents[team]], *direct}
            if team in teams:
                learns.add(teams[team])
            if second >= 0 and levels[second] == CITY:
                learns.add(cities[second])
            for channel in rnd.sample(sorted(learns), min(len(learns), rnd.randint(1, 3))):
                record(user_id, channel, rnd.randint(1, 3))
            if i < DIVISION_USERS:  # division 0: the tree and perf channels' learners
                if i % 2 == 0:
                    enrolled.append((channels[PERF], user_id, learner))
                record(user_id, PERF, rnd.randint(1, 3))
                if rnd.random() < 0.2:
                    record(user_id, TREE, 1)
                if i % 10 == 0:
                    facts.append((user_id, self.ids.certificates[1], True))
                done = {row[1] for row in progress[mark:]}
                progress.extend(self._certification(compliance, user_id, done))
                facts.append((user_id, self.ids.certificates[COMPLIANCE_CERTIFICATE], True))
        return enrolled, progress, facts

    def _certification(self, rnd: random.Random, user_id: int, done: set[int]) -> list[tuple[Any, ...]]:
        """The tree channel's items completed by a user of division 0 (but those he already has a
        row for): all of them for 70% of the users, one for 10%."""
        assert self.ids.channels is not None and self.ids.items is not None
        draw = rnd.random()
        items = self.ids.items[TREE][: 1 if 0.7 <= draw < 0.8 else None] if draw < 0.8 else []
        at = self.times[0] - timedelta(days=rnd.randrange(COMPLIANCE_DAYS))
        channel = self.ids.channels[TREE]
        return [(user_id, item, channel, True, None, at, at) for item, _, _ in items if item not in done]

    def busy_user(self) -> None:
        """Directly in every channel but the tree channel (he learns there through his team's
        division); progress in all 200: every required item done in the even channels."""
        assert self.ids.channels is not None and self.ids.items is not None
        assert self.ids.certificates is not None
        user_id, channels = self.ids.busy_user, self.ids.channels
        enrolled = [(channels[c], user_id, enrolment.LEARNER) for c in range(CHANNELS) if c != TREE]
        progress: list[tuple[Any, ...]] = []
        for c, items in enumerate(self.ids.items):
            done = [item for item in items if not item[2]] if c % 2 == 0 else items[:1]
            for k, (item_id, scored, _) in enumerate(items):
                at = self.times[(c + k) % 60]
                if any(item_id == d[0] for d in done):
                    progress.append((user_id, item_id, channels[c], True, 90 if scored else None, at, at))
                elif k % 2 == 0:
                    progress.append((user_id, item_id, channels[c], False, None, None, at))
        facts = [(user_id, cert, True) for k, cert in enumerate(self.ids.certificates) if k % 4 == 0]
        with self.db.session(write=True) as session:
            _INSERT_CHANNEL_USERS.run(session, enrolled)
            _INSERT_PROGRESS.run(session, progress)
            _INSERT_USER_CERTIFICATES.run(session, facts)

    def check(self) -> dict[str, Any]:
        """Check what the Dataset will claim, through the service layer where it answers it."""
        users, account = self.users, self.account
        expected = tree_size(users)
        sample = [user_id_of(i) for i in sample_indexes(users)]
        with self.db.session() as session:
            tree_learners = assignments.count_learners(session, account, channel_id_of(TREE))
            perf_learners = assignments.count_learners(session, account, channel_id_of(PERF))
            if tree_learners != expected or perf_learners != expected:
                raise RuntimeError(
                    f"learners: tree channel {tree_learners:,}, perf channel {perf_learners:,}; "
                    f"{expected:,} wanted"
                )
            tree_id, perf_id = (
                channels_service.require_channel(session, account, channel_id_of(TREE)).id,
                channels_service.require_channel(session, account, channel_id_of(PERF)).id,
            )
            direct = session.scalar(
                select(func.count()).select_from(ChannelUser).where(ChannelUser.channel_id == tree_id)
            )
            assigned = session.execute(
                select(ChannelGroup.group_id, ChannelGroup.recursive).where(
                    ChannelGroup.channel_id == tree_id
                )
            ).all()
            if direct or len(assigned) != 1 or not assigned[0].recursive:
                raise RuntimeError(f"tree channel: {direct} direct enrolments, groups {assigned}")
            depth = self._depth(session, assigned[0].group_id)
            if depth != len(HIERARCHY):
                raise RuntimeError(f"the tree channel's group has a subtree of {depth} levels")
            active = session.scalar(
                select(func.count(func.distinct(ItemProgress.user_id))).where(
                    ItemProgress.channel_id == perf_id,
                    ItemProgress.user_id.in_(enrolment.learner_ids(perf_id)),
                )
            )
            if active != expected:
                raise RuntimeError(f"perf channel: {active:,} of {expected:,} learners have activity")
            busy = self.ids.busy_user
            busy_channels = session.scalar(
                select(func.count())
                .select_from(Channel)
                .where(Channel.id.in_(enrolment.channel_ids_of_learner(busy)), Channel.is_master.is_(False))
            )
            busy_active = session.scalar(
                select(func.count(func.distinct(ItemProgress.channel_id))).where(ItemProgress.user_id == busy)
            )
            if busy_channels != CHANNELS or busy_active != CHANNELS:
                raise RuntimeError(f"busy user: learner of {busy_channels}, active in {busy_active} channels")
            busy_certificates = session.scalar(
                select(func.count(func.distinct(CertificateCourse.certificate_id))).where(
                    CertificateCourse.channel_id.in_(enrolment.channel_ids_of_learner(busy))
                )
            )
            if busy_certificates != CERTIFICATES:
                raise RuntimeError(f"busy user: connected to {busy_certificates} certificates")
            for column, mark in ((User.email_key, EMAIL_MARK), (User.last_name_key, LAST_NAME_MARK)):
                matching = session.scalar(
                    select(func.count())
                    .select_from(User)
                    .where(User.account_id == self.ids.account, column.contains(mark))
                )
                if not 10 <= (matching or 0) <= 1000:
                    raise RuntimeError(f"{mark!r} matches {matching} users")
            found = session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.account_id == self.ids.account, User.external_id.in_(sample))
            )
            if found != SAMPLE_USERS:
                raise RuntimeError(f"only {found} of the {SAMPLE_USERS} sample users exist")
            busy_identifier = session.scalar(select(User.external_id).where(User.id == busy))
            counts = {
                table.__tablename__: session.scalar(select(func.count()).select_from(table))
                for table in (User, Group, ChannelGroup, ChannelUser, ItemProgress, UserCertificate)
            }
        return {
            "tree_channel_learners": tree_learners,
            "busy_user": busy_identifier,
            "busy_user_certificates": busy_certificates,
            "sample_users": sample,
            "rows": counts,
        }

    def _depth(self, session: Session, group_id: int) -> int:
        children: dict[int | None, list[int]] = {}
        for child, parent in session.execute(
            select(Group.id, Group.parent_id).where(Group.account_id == self.ids.account)
        ):
            children.setdefault(parent, []).append(child)
        depth, level = 0, [group_id]
        while level:
            depth += 1
            level = [child for group in level for child in children.get(group, ())]
        return depth


# --- cache and databases ---------------------------------------------------------------------


def _tag(users: int) -> str:
    return f"scale-{users}-v{GENERATOR_VERSION}"


def _json_path(backend: str, users: int) -> Path:
    return CACHE / f"{_tag(users)}.{backend}.json"


def _load(path: Path, url: str) -> Dataset | None:
    try:
        stored = json.loads(path.read_text())
        values = {f.name: stored[f.name] for f in fields(Dataset) if f.name != "build_seconds"}
    except (OSError, ValueError, KeyError):
        return None
    values["sample_users"] = tuple(values["sample_users"])
    return Dataset(**values, build_seconds=None) if values["url"] == url else None


def _save(path: Path, dataset: Dataset, reporter: Reporter, rows: dict[str, int]) -> None:
    stored = {
        **asdict(dataset),
        "build_seconds": None,
        "built": {
            "seconds": dataset.build_seconds,
            "phases": {phase: round(s, 1) for phase, s in reporter.seconds.items()},
            "rows": rows,
            "generator_version": GENERATOR_VERSION,
            "revision": migrate.head_revision(),
        },
    }
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(stored, indent=1))
    scratch.replace(path)


def _build(url: str, users: int, reporter: Reporter) -> tuple[dict[str, Any], dict[str, Any]]:
    builder = Builder(url, users, reporter)
    try:
        with reporter:
            creds = builder.build()
        if make_url(url).get_backend_name() == "postgresql":
            with reporter.timed("vacuum analyze"):
                reporter.say("VACUUM ANALYZE")
                with builder.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
        else:
            with builder.db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        with reporter.timed("check"):
            checked = builder.check()
        return creds, checked
    finally:
        builder.close()


def _dataset(
    backend: str, users: int, url: str, creds: dict[str, Any], checked: dict[str, Any], seconds: float
) -> Dataset:
    return Dataset(
        backend=backend,
        users=users,
        url=url,
        client_key=creds["client_key"],
        secret=creds["secret"],
        sample_users=tuple(checked["sample_users"]),
        tree_channel=channel_id_of(TREE),
        tree_channel_learners=checked["tree_channel_learners"],
        perf_channel=channel_id_of(PERF),
        busy_user=checked["busy_user"],
        busy_user_certificates=checked["busy_user_certificates"],
        email_substring=EMAIL_MARK,
        last_name_substring=LAST_NAME_MARK,
        build_seconds=round(seconds, 1),
    )


def _sqlite(users: int, reporter: Reporter, rebuild: bool) -> Dataset:
    path = CACHE / f"{_tag(users)}.db"
    url = f"sqlite:///{path}"
    meta = _json_path("sqlite", users)
    if not rebuild and path.exists() and (cached := _load(meta, url)) is not None:
        return cached
    # Whatever else is there for this size is stale (another generator version) or unfinished.
    for pattern in ("*.db", "*.db-*", "*.sqlite.json"):
        for stale in CACHE.glob(f"scale-{users}-{pattern}"):
            stale.unlink()
    scratch = CACHE / f"{_tag(users)}.building-{os.getpid()}.db"
    start = time.perf_counter()
    try:
        creds, checked = _build(f"sqlite:///{scratch}", users, reporter)
        for suffix in ("-wal", "-shm"):
            leftover = Path(f"{scratch}{suffix}")
            if leftover.exists() and leftover.stat().st_size:
                raise RuntimeError(f"{leftover} still holds data after the checkpoint")
            leftover.unlink(missing_ok=True)
        shutil.move(scratch, path)
    except BaseException:
        for leftover in CACHE.glob(f"{scratch.name}*"):
            leftover.unlink()
        raise
    dataset = _dataset("sqlite", users, url, creds, checked, time.perf_counter() - start)
    _save(meta, dataset, reporter, checked["rows"])
    return dataset


def _admin(postgres_url: str) -> Engine:
    return make_engine(postgres_url, pool_size=1, timeout=60)


def _databases(admin: Engine, prefix: str) -> list[str]:
    with admin.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database")).scalars()
        # Filtered here, not by LIKE, whose "_" matches any character (10000_ would match 100000).
        return [name for name in names if name.startswith(prefix)]


def _postgresql(users: int, postgres_url: str, reporter: Reporter, rebuild: bool) -> Dataset:
    prefix = f"enabley_scale_{users}_"
    name = f"{prefix}v{GENERATOR_VERSION}"
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    meta = _json_path("postgresql", users)
    admin = _admin(postgres_url)
    try:
        existing = _databases(admin, prefix)
        if not rebuild and name in existing and (cached := _load(meta, url)) is not None:
            return cached
        scratch = f"{prefix}building_{os.getpid()}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for stale in existing:
                reporter.say(f"dropping {stale} (stale or unfinished)")
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        for stale_meta in CACHE.glob(f"scale-{users}-*.postgresql.json"):
            stale_meta.unlink()
        start = time.perf_counter()
        try:
            scratch_url = make_url(postgres_url).set(database=scratch).render_as_string(hide_password=False)
            creds, checked = _build(scratch_url, users, reporter)
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'ALTER DATABASE "{scratch}" RENAME TO "{name}"'))
        except BaseException:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            raise
    finally:
        admin.dispose()
    dataset = _dataset("postgresql", users, url, creds, checked, time.perf_counter() - start)
    _save(meta, dataset, reporter, checked["rows"])
    return dataset


def dataset(
    backend: str,
    users: int,
    *,
    postgres_url: str | None = None,
    progress: bool = True,
    rebuild: bool = False,
) -> Dataset:
    """The account of ``users`` users on ``backend``: from the cache, or built now (minutes for a
    million users) and cached. ``postgres_url``: an administrative URL of the PostgreSQL server
    (its database is only used to create, rename and drop the benchmark's own databases).
    ``rebuild``: build anew even when a cached build exists."""
    if users < MIN_USERS:
        raise ValueError(f"at least {MIN_USERS:,} users (the dataset names {SAMPLE_USERS:,} sample users)")
    CACHE.mkdir(exist_ok=True)
    reporter = Reporter(progress)
    if backend == "sqlite":
        found = _sqlite(users, reporter, rebuild)
    elif backend == "postgresql":
        if not postgres_url:
            raise ValueError("backend 'postgresql' needs postgres_url")
        found = _postgresql(users, postgres_url, reporter, rebuild)
    else:
        raise ValueError(f"unknown backend {backend!r}: 'sqlite' or 'postgresql'")
    if found.build_seconds is None:
        # Built by an earlier checkout: the schema may have moved on since (the upgrade is locked
        # and a no-op when nothing changed).
        migrate.upgrade(found.url)
    if found.build_seconds is not None:
        reporter.say(
            f"built {users:,} users on {backend} in {found.build_seconds:.1f} s: {reporter.summary()}"
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ENABLEY_BENCH_POSTGRES_URL"),
        help="administrative URL of the PostgreSQL server (default: $ENABLEY_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--rebuild", action="store_true", help="build anew even when cached")
    opts = parser.parse_args(argv)
    found = dataset(
        opts.backend,
        opts.users,
        postgres_url=opts.postgres_url,
        progress=not opts.quiet,
        rebuild=opts.rebuild,
    )
    shown = asdict(found)
    shown["sample_users"] = [*found.sample_users[:3], "...", found.sample_users[-1]]
    print(json.dumps(shown, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
