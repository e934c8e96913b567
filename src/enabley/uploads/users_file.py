"""users.csv: read once, a chunk of rows at a time, each chunk written once it is checked.

Each row is checked as *Create or update User* would check it (the same ``UserData``, the same
``users.rules``) and compared with the stored user. While no row has been refused, what a chunk
has to write is written as soon as the chunk is planned, on PostgreSQL by a thread of its own
while the next chunk is read and checked (the database's index and key maintenance is most of
a first upload's time there, bench/README.md); once a row is refused nothing more is written,
and the caller's transaction takes back what was. What spans rows is kept as the identifiers and
usernames seen. No statement runs per row: lookups and writes go by chunk.
"""

from __future__ import annotations

import marshal
import tempfile
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any, NamedTuple, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, null, select, text, update
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.db.bulk import (
    BulkCopy,
    BulkInsert,
    BulkWrite,
    Direct,
    KeyedRead,
    LocalSettings,
    WriteBehind,
    analyze,
    bind,
    binds,
    chunks,
    copies,
    estimated_rows,
)
from enabley.events import log
from enabley.events.stored import Encoded
from enabley.models import Group, Profile, User, UserGroup, UserProfile, UserSubAccount
from enabley.schemas import format_timestamp
from enabley.uploads import row_events, rules, user_rows
from enabley.uploads.csvfiles import CsvFile
from enabley.uploads.problems import Problems
from enabley.users import rules as user_rules

COLUMNS = (
    "identifier",
    "email",
    "firstName",
    "lastName",
    "username",
    "phone",
    "address",
    "isActive",
    "possibleRoles",
    "subAccountName",
    "groups",
    "profiles",
)
REQUIRED = ("identifier",)
CHUNK = 2000
PLANS_IN_MEMORY = 32 * 1024 * 1024
"""Where the chunks are written once the whole upload is checked (SQLite: ``UsersUpload.check``),
the bytes of marshalled plans an upload keeps in memory before it moves them to a temporary
file: an upload of 100,000 users keeps them in memory, a larger one holds no more than this."""
ANALYZE_AFTER = 10_000
"""PostgreSQL plans queries from statistics that autovacuum refreshes once a tenth of a table
has changed, a minute or so later. An upload can change far more than that at once, and the
next one's lookups would be planned as if the tables were still empty (measured: each lookup of
2,000 users scanning all 100,000). After writing this many rows, the upload refreshes them.

The upload's own lookups are planned from them too, while it writes: see ``ANALYZE_WHILE_WRITING``."""
ANALYZE_WHILE_WRITING = 1000
"""Once an upload has created this many users, and more than PostgreSQL's statistics count in
the table, it refreshes the users' statistics, once."""

_USERS = cast(Table, User.__table__)
_STORED = ("email", "first_name", "last_name", "username", "phone", "address", "is_active", "possible_roles")
_AT = {column: i for i, column in enumerate(_STORED, start=2)}
"""Where each stored column is in a row of the "stored" read: (id, external_id, *_STORED,
username_key)."""
_KEYS = tuple(user_rules.SEARCH_KEYS.items())
_INSERTED = ("external_id", *_STORED, *(key for _, key in _KEYS), "account_id", "created_at", "modified_at")
_LINKS: dict[str, tuple[Table, str]] = {
    "subAccountName": (cast(Table, UserSubAccount.__table__), "sub_account_id"),
    "groups": (cast(Table, UserGroup.__table__), "group_id"),
    "profiles": (cast(Table, UserProfile.__table__), "profile_id"),
}


_INSERT_USERS = BulkInsert(_USERS, _INSERTED, returning=("external_id", "id"))
_COPY_USERS = BulkCopy(_USERS, _INSERTED, numbered="id")
_ADD_LINKS = {
    kind: BulkInsert(table, ("user_id", column), ignore_conflicts=True)
    for kind, (table, column) in _LINKS.items()
}
# The links of users this upload creates: no other transaction can know those users yet.
_COPY_LINKS = {kind: BulkCopy(table, ("user_id", column)) for kind, (table, column) in _LINKS.items()}
_RELEASE = BulkWrite(
    lambda: (
        update(_USERS)
        .where(_USERS.c.id == bind("id"), _USERS.c.username_key == bind("username_key"))
        .values(username_key=null())
    ),
    ("id", "username_key"),
)
"""Frees a username its holder gives up in this upload, unless the holder's own row was written
first (the holder's new username is then stored already)."""


def _remove_links(table: Table, column: str) -> BulkWrite:
    stmt = delete(table).where(table.c.user_id == bind("user_id"), table.c[column] == bind(column))
    return BulkWrite(lambda: stmt, ("user_id", column))


_REMOVE_LINKS = {kind: _remove_links(table, column) for kind, (table, column) in _LINKS.items()}
_UPDATES: dict[tuple[str, ...], BulkWrite] = {}


def _update_users(keys: tuple[str, ...]) -> BulkWrite:
    """UPDATE users SET <keys> WHERE id = :id, one statement per set of keys."""
    if keys not in _UPDATES:
        stmt = update(_USERS).where(_USERS.c.id == bind("id")).values(binds(keys))
        _UPDATES[keys] = BulkWrite(lambda: stmt, ("id", *keys))
    return _UPDATES[keys]


class ParsedRow(NamedTuple):
    """A checked users.csv row."""

    line: int
    identifier: str
    sub_account_name: str | None
    values: dict[str, Any]
    """The stored values the row sets."""
    lists: dict[str, list[str]]
    """Its list columns (groups, profiles), split."""


class Taken(NamedTuple):
    """A username the upload gives that a stored user holds."""

    line: int
    username: str
    holder: str
    """The holder's identifier."""
    holder_id: int


class References:
    """The tenant's groups or profiles by identifier, looked up in batches as rows name them.

    ``pending`` are created by this upload: known, but without an id until they are written.
    """

    def __init__(
        self,
        session: Session,
        tenant: HasAccount,
        model: type[Group] | type[Profile],
        ids: Mapping[str, int] | None = None,
        pending: Collection[str] = (),
    ) -> None:
        self.session, self.tenant, self.model = session, tenant, model
        self.ids: dict[str, int | None] = dict(ids or {})
        self.pending = set(pending)

    def load(self, identifiers: Iterable[str]) -> None:
        wanted = {i for i in identifiers if i not in self.ids and i not in self.pending}
        model = self.model
        for batch in chunks(wanted, CHUNK):
            stmt = (
                owned(model, self.tenant)
                .with_only_columns(model.external_id, model.id)
                .where(model.external_id.in_(batch))
            )
            found: dict[str, int] = {external_id: id_ for external_id, id_ in self.session.execute(stmt)}
            for identifier in batch:
                self.ids[identifier] = found.get(identifier)

    def written(self, ids: Mapping[str, int]) -> None:
        self.ids.update(ids)
        self.pending.clear()


class ChunkPlan:
    """What a chunk writes. Users are named by id, or by identifier before they are created."""

    def __init__(self) -> None:
        self.release: list[tuple[int, str]] = []
        """(id, username key) of stored users holding a username this chunk gives to another."""
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: list[dict[str, Any]] = []
        self.add: dict[str, list[tuple[int | str, int | str]]] = defaultdict(list)
        self.remove: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.events = row_events.Events()
        """The change log's events of the users this chunk updates (``UsersUpload._events``
        adds the new users')."""
        self.encoded: list[Encoded] = []
        """The change log's rows for what this chunk writes, encoded (``UsersUpload._events``)."""
        self.created = self.updated = self.unchanged = 0

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or any(self.add.values()) or any(self.remove.values()))

    def dump(self) -> bytes:
        return marshal.dumps(
            (
                self.release,
                self.inserts,
                self.updates,
                dict(self.add),
                dict(self.remove),
                self.encoded,
            )
        )

    @classmethod
    def load(cls, blob: bytes) -> ChunkPlan:
        plan = cls()
        plan.release, plan.inserts, plan.updates, add, remove, plan.encoded = marshal.loads(blob)  # noqa: S302
        plan.add.update(add)
        plan.remove.update(remove)
        return plan


class Plans:
    """The chunks' marshalled plans, in order."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=PLANS_IN_MEMORY)  # noqa: SIM115 (close())

    def append(self, blob: bytes) -> None:
        self.file.write(len(blob).to_bytes(8, "little"))
        self.file.write(blob)

    def __iter__(self) -> Iterator[bytes]:
        self.file.seek(0)
        while header := self.file.read(8):
            yield self.file.read(int.from_bytes(header, "little"))

    def close(self) -> None:
        self.file.close()


class UsersUpload:
    def __init__(
        self,
        session: Session,
        tenant: HasAccount,
        file: CsvFile,
        sub_accounts: Mapping[str, int],
        groups: References,
        profiles: References,
        problems: Problems,
        now: datetime,
    ) -> None:
        self.session, self.tenant, self.file, self.problems, self.now = session, tenant, file, problems, now
        self.sub_accounts, self.groups, self.profiles = sub_accounts, groups, profiles
        columns = file.columns
        self.lists = [(c, i) for c, i in columns.items() if c in ("groups", "profiles")]
        self.links = [c for c in _LINKS if c in columns]
        self.references = [
            (column, refs, kind)
            for column, refs, kind in (("groups", groups, "Group"), ("profiles", profiles, "User profile"))
            if column in columns
        ]
        self.identifier_index = columns["identifier"]
        self.has_username = "username" in columns
        self.first_line: dict[str, int] = {}
        self.usernames: dict[str, str] = {}
        """Username key -> the identifier that gives it (its line is ``first_line``'s)."""
        self.taken: list[Taken] = []
        self.created = self.updated = self.unchanged = 0
        self.written = 0
        self.inserted = 0
        self.analyzed = False
        keys: Any = bindparam("keys", expanding=True)
        self.reads = {
            "stored": KeyedRead(
                owned(User, tenant)
                .with_only_columns(
                    User.id, User.external_id, *(getattr(User, c) for c in _STORED), User.username_key
                )
                .where(User.external_id.in_(keys))
            ),
            "holders": KeyedRead(
                owned(User, tenant)
                .with_only_columns(User.username_key, User.external_id, User.id)
                .where(User.username_key.in_(keys))
            ),
            **{
                kind: KeyedRead(select(table.c.user_id, table.c[column]).where(table.c.user_id.in_(keys)))
                for kind, (table, column) in _LINKS.items()
            },
        }
        self.by_unique_index: AbstractContextManager[Any] = nullcontext()
        """Around the look-ups of users by identifier and by username, on PostgreSQL: while the
        upload writes, the statistics lag behind its rows, and the planner chose (measured) to
        scan all the account's users for each chunk, or a bitmap of the trigram index of
        usernames, whose list of pending entries (long while an upload writes) each key scanned:
        one look-up ran past the statement timeout. Index scans only: the unique B-trees."""
        self.defaults = user_rules.new_user_defaults()
        self.reader = user_rows.RowReader(columns)
        stamp = format_timestamp(now)
        self.stamps = {"created": {"created": stamp, "modified": stamp}, "updated": {"modified": stamp}}
        self.sub_names = {id_: name for name, id_ in sub_accounts.items()}
        self.group_names: dict[int, str] = {}
        self.writes = True
        """False to check only (``validateOnly``): every row is planned, nothing is written."""

    def check(self) -> None:
        """Check every row and write every chunk, while no row is refused.

        On PostgreSQL each chunk is written once it is planned, on a thread of its own while
        the next chunk is checked. On SQLite the database's work is the server's own, on the
        same thread, so nothing would overlap: the chunks are kept marshalled and written once
        all rows are checked, as before, and a refused upload has written nothing at all.

        The groups the rows name must be written already when anything is to be written. A
        stored user holding a username that a row gives to another is freed just before that
        row is written: if the holder takes another username further down, all is well; if
        it never shows up, that row is refused at the end, and the caller's transaction takes
        back what was written."""
        target = Direct.of(self.session)
        copy = copies(target)
        if copy:
            scans = {"enable_seqscan": "off", "enable_bitmapscan": "off"}
            self.by_unique_index = LocalSettings(self.session, scans)
        plans = Plans()
        try:
            with WriteBehind(threaded=copy) as writer:
                for chunk in chunks(self.file.rows(self.problems), CHUNK):
                    rows = [row for line, cells in chunk if (row := self._parse(line, cells))]
                    plan = self._plan(rows)
                    self.created += plan.created
                    self.updated += plan.updated
                    self.unchanged += plan.unchanged
                    if plan and not self.problems and self.writes:
                        plan.encoded = self._events(plan)
                        if copy:
                            # The events' COPY text is made here, while the writer writes.
                            events = log.encoded_batch(self.tenant.account_id, plan.encoded, copy=True)
                            writer.submit(partial(self._write, target, plan, events))
                        else:
                            plans.append(plan.dump())
            for taken in self.taken:
                if taken.holder not in self.first_line:
                    message = f"Username {taken.username!r} is already taken by {taken.holder!r}"
                    self.problems.add(self.file.name, taken.line, "username", message)
            if not self.problems:
                for blob in plans:
                    self._write(target, ChunkPlan.load(blob))
        finally:
            plans.close()

    def finish(self) -> None:
        """Once the whole upload is written: PostgreSQL's statistics refreshed after a large one."""
        if self.written >= ANALYZE_AFTER and self.session.get_bind().dialect.name == "postgresql":
            tables = ", ".join(table.name for table in (_USERS, *(table for table, _ in _LINKS.values())))
            self.session.execute(text(f"ANALYZE {tables}"))

    def _write(self, target: Direct, plan: ChunkPlan, events: log.Batch | None = None) -> None:
        """Runs on ``WriteBehind``'s thread: only ``target``, never the session. ``events``: the
        plan's, made ready already."""
        if plan.release:
            _RELEASE.run(target, plan.release)
        for keys, rows in _by_keys(plan.updates).items():
            _update_users((*keys, "modified_at")).run(target, [(*row, self.now) for row in rows])
        constants = (self.tenant.account_id, self.now, self.now)
        copy = copies(target)
        account_id = self.tenant.account_id
        if events is None:
            events = log.encoded_batch(account_id, plan.encoded, copy=copy)
        log.emit_batch(target, events)
        new_ids: dict[str, int]
        if copy:
            ids = _COPY_USERS.run(target, plan.inserts, constants)
            new_ids = dict(zip((row[0] for row in plan.inserts), ids, strict=True))
        else:
            new_ids = dict(_INSERT_USERS.run(target, plan.inserts, constants))
        written = len(plan.updates) + len(plan.inserts)
        for kind in _LINKS:
            removed, added = plan.remove.get(kind, ()), plan.add.get(kind, ())
            _REMOVE_LINKS[kind].run(target, removed)
            # Users created by this upload were named by identifier until now; the groups it
            # creates were written before any user.
            created = [(new_ids[u], t) for u, t in added if isinstance(u, str)]
            stored = [(u, t) for u, t in added if not isinstance(u, str)]
            if copy:
                _COPY_LINKS[kind].run(target, created)
            else:
                stored += created
            _ADD_LINKS[kind].run(target, stored)
            written += len(removed) + len(added)
        self.written += written
        self.inserted += len(plan.inserts)
        if copy and not self.analyzed and self.inserted >= ANALYZE_WHILE_WRITING:
            # Once: the look-ups of the next chunks are planned from these statistics
            # (PostgreSQL counts the rows of the transaction itself).
            self.analyzed = True
            if estimated_rows(target, _USERS) < self.inserted:
                analyze(target, _USERS)

    def _parse(self, line: int, cells: list[str]) -> ParsedRow | None:
        identifier = cells[self.identifier_index]
        first = self.first_line.setdefault(identifier, line)
        if first != line:
            self._problem(line, "identifier", f"Duplicate identifier {identifier!r}: already on line {first}")
            return None
        try:
            row = self.reader.read(cells)
        except ValidationError as exc:
            for error in exc.errors():
                self._problem(line, str(error["loc"][0]), rules.describe_error(error))
            return None
        lists = {column: rules.split_list(cells[index]) for column, index in self.lists}
        return ParsedRow(line, row.identifier, row.sub_account_name, row.values, lists)

    def _problem(self, line: int, column: str | None, message: str) -> None:
        self.problems.add(self.file.name, line, column, message)

    def _plan(self, rows: list[ParsedRow]) -> ChunkPlan:
        with self.by_unique_index:
            stored = self._stored([row.identifier for row in rows])
            holders = self._holders(rows, stored) if self.has_username else {}
        user_ids = [user[0] for user in stored.values()]
        current = {kind: self._current(kind, user_ids) for kind in self.links}
        for column, refs in (("groups", self.groups), ("profiles", self.profiles)):
            refs.load(i for row in rows for i in row.lists.get(column, ()))
        plan = ChunkPlan()
        for line, identifier, sub, values, lists in rows:
            targets = self._targets(line, sub, lists)
            if self.has_username and not self._username_free(line, identifier, values, holders, plan):
                continue
            if targets is None:
                continue
            user = stored.get(identifier)
            if user is None:
                self._plan_create(plan, identifier, values, targets)
            else:
                self._plan_update(plan, user, values, targets, current)
        return plan

    def _targets(
        self, line: int, sub: str | None, lists: Mapping[str, list[str]]
    ) -> dict[str, list[int | str]] | None:
        """The row's memberships by kind: its sub-account (if any), its groups and profiles.
        None, with problems reported, when it names any that doesn't exist."""
        targets: dict[str, list[int | str]] = {}
        ok = True
        if sub is not None:
            sub_id = self.sub_accounts.get(sub)
            if sub_id is None:
                self._problem(line, "subAccountName", f"Unknown subAccountName {sub!r}")
                ok = False
            else:
                targets["subAccountName"] = [sub_id]
        for column, refs, kind in self.references:
            ids, pending = refs.ids, refs.pending
            wanted: list[int | str] = []
            unknown: list[str] = []
            for identifier in lists[column]:
                found = ids.get(identifier)
                if found is not None:
                    wanted.append(found)
                elif identifier in pending:
                    wanted.append(identifier)  # created by this upload: its id comes later
                else:
                    unknown.append(identifier)
            if unknown:
                self._problem(line, column, f"{kind} {', '.join(map(repr, unknown))} not found")
                ok = False
            targets[column] = wanted
        return targets if ok else None

    def _username_free(
        self,
        line: int,
        identifier: str,
        values: Mapping[str, Any],
        holders: Mapping[str, tuple[str, int]],
        plan: ChunkPlan,
    ) -> bool:
        """Usernames are unique per account whatever their case: within the upload, and against
        stored users unless they take another username in this upload (settled in ``check``)."""
        key = user_rules.search_key(values.get("username"))
        if key is None:
            return True
        other = self.usernames.setdefault(key, identifier)
        if other != identifier:
            first = self.first_line[other]
            self._problem(
                line,
                "username",
                f"Username {values['username']!r} is also given to {other!r} on line {first}",
            )
            return False
        holder = holders.get(key)
        if holder is not None and holder[0] != identifier:
            self.taken.append(Taken(line, values["username"], *holder))
            plan.release.append((holder[1], key))
        return True

    def _plan_create(
        self, plan: ChunkPlan, identifier: str, values: dict[str, Any], targets: Mapping[str, list[int | str]]
    ) -> None:
        plan.created += 1
        defaults = self.defaults
        stored = [values[c] if c in values else defaults.get(c) for c in _STORED]
        keys = [(v.casefold() if (v := values.get(field)) else None) for field, _ in _KEYS]
        plan.inserts.append((identifier, *stored, *keys))
        for kind, wanted in targets.items():
            add = plan.add[kind]
            for target in wanted:
                add.append((identifier, target))

    def _plan_update(
        self,
        plan: ChunkPlan,
        user: tuple[Any, ...],
        values: dict[str, Any],
        targets: Mapping[str, list[int | str]],
        current: Mapping[str, Mapping[int, set[int]]],
    ) -> None:
        user_id = user[0]
        # Only the columns that change: an unchanged search key would still cost its index.
        diff = {column: value for column, value in values.items() if user[_AT[column]] != value}
        if diff:
            for field, key in _KEYS:
                if field in diff:
                    diff[key] = user_rules.search_key(diff[field])
            plan.updates.append({"id": user_id, **diff})
        joined = linked = False
        for kind, wanted in targets.items():
            have = current[kind].get(user_id, ())
            added = [t for t in wanted if t not in have]
            # A sub-account is added, never removed (as with *Create or update User*).
            removed = [] if kind == "subAccountName" else [t for t in have if t not in wanted]
            if added:
                plan.add[kind].extend([(user_id, t) for t in added])
            if removed:
                plan.remove[kind].extend([(user_id, t) for t in removed])
            linked = linked or bool(added or removed)
            joined = joined or (kind == "subAccountName" and bool(added))
        if diff or linked:
            plan.updated += 1
            self._plan_update_events(plan, user, values, targets, current, bool(diff), joined)
        else:
            plan.unchanged += 1

    def _plan_update_events(
        self,
        plan: ChunkPlan,
        user: tuple[Any, ...],
        values: dict[str, Any],
        targets: Mapping[str, list[int | str]],
        current: Mapping[str, Mapping[int, set[int]]],
        modified: bool,
        joined: bool,
    ) -> None:
        """``user.updated`` when the user as the API shows it changed (``modified``: its columns,
        which moves its ``modified`` time; ``joined``: a sub-account, which does not, as with
        *Create or update User*), and an event a membership added or removed."""
        identifier = user[1]
        if modified or joined:
            fields = [values.get(column, user[_AT[column]]) for column in _STORED]
            subs = None
            if "subAccountName" in targets:
                have = current["subAccountName"].get(user[0], set())
                subs = sorted(self.sub_names[int(sub)] for sub in {*have, *targets["subAccountName"]})
            # Without a new ``modified`` time, the event leaves the stored one out.
            stamps = self.stamps["updated"] if modified else {}
            row_events.user_event(plan.events, "user.updated", identifier, _STORED, fields, stamps, subs)
        if "groups" in targets:
            have = current["groups"].get(user[0], set())
            wanted = targets["groups"]
            added = self._group_names([t for t in wanted if t not in have])
            removed = self._group_names([t for t in have if t not in wanted])
            row_events.memberships(plan.events, "group.member_added", identifier, added)
            row_events.memberships(plan.events, "group.member_removed", identifier, removed)

    def _events(self, plan: ChunkPlan) -> list[Encoded]:
        """The chunk's change-log rows. Its new users' events and their groups' are made from the
        columns it inserts and the memberships it adds, a column at a time; its updated users'
        were gathered as they were planned."""
        if plan.inserts:
            # The identifier and the stored values: the first columns of an insert.
            identifiers, *values = islice(zip(*plan.inserts, strict=True), 1 + len(_STORED))
            joined: dict[str, list[str]] = {}
            for user, sub in plan.add.get("subAccountName", ()):
                if isinstance(user, str):
                    joined.setdefault(user, []).append(self.sub_names[int(sub)])
            subs = [joined.get(identifier, ()) for identifier in identifiers]
            stamps = self.stamps["created"]
            row_events.created_users(plan.events, identifiers, _STORED, values, subs, stamps)
            added = [(user, group) for user, group in plan.add.get("groups", ()) if isinstance(user, str)]
            if added:
                users, groups = zip(*added, strict=True)
                row_events.joined_groups(plan.events, self._group_names(groups), users)
        return plan.events.encoded()

    def _group_names(self, targets: Sequence[int | str]) -> list[str]:
        """Group identifiers of ``targets``: ids of stored groups (those the file names, or that
        a user leaves), identifiers of those the upload creates."""
        missing = {t for t in targets if isinstance(t, int) and t not in self.group_names}
        if missing:
            # Every group looked up so far at once: the references grow a chunk at a time.
            self.group_names.update({id_: n for n, id_ in self.groups.ids.items() if id_ is not None})
            unnamed = [id_ for id_ in missing if id_ not in self.group_names]
            if unnamed:
                stmt = owned(Group, self.tenant).with_only_columns(Group.id, Group.external_id)
                found = self.session.execute(stmt.where(Group.id.in_(unnamed))).all()
                self.group_names.update((id_, name) for id_, name in found)
        return [t if isinstance(t, str) else self.group_names[t] for t in targets]

    def _stored(self, identifiers: list[str]) -> dict[str, tuple[Any, ...]]:
        """Stored users by identifier: (id, identifier, *_STORED, username_key)."""
        return {row[1]: row for row in self.reads["stored"].all(self.session, identifiers)}

    def _current(self, kind: str, user_ids: list[int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = defaultdict(set)
        for user_id, target in self.reads[kind].all(self.session, user_ids):
            found[user_id].add(target)
        return found

    def _holders(
        self, rows: list[ParsedRow], stored: Mapping[str, tuple[Any, ...]]
    ) -> dict[str, tuple[str, int]]:
        """Stored users holding the usernames these rows give: key -> (identifier, id). A user
        keeping its own username needs no look-up."""
        keys = list(
            {
                key
                for row in rows
                if (key := user_rules.search_key(row.values.get("username")))
                and ((user := stored.get(row.identifier)) is None or user[-1] != key)
            }
        )
        return {
            key: (identifier, id_) for key, identifier, id_ in self.reads["holders"].all(self.session, keys)
        }


def _by_keys(updates: list[dict[str, Any]]) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
    """Updates grouped by the columns they set, as rows of (id, *values)."""
    grouped: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for values in updates:
        keys = tuple(key for key in values if key != "id")
        grouped[keys].append((values["id"], *(values[key] for key in keys)))
    return grouped
