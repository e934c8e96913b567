"""groups.csv: every row checked as *Create or update Group* would, then written parents first.

An organisation has far fewer groups than users, so the checked rows stay in memory between the
check and the write (the tree's rules need them all at once anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, aliased

from enabley.db import bulk
from enabley.db.base import HasAccount, owned
from enabley.db.bulk import chunks
from enabley.groups import rules as group_rules
from enabley.groups import service as groups_service
from enabley.groups.schemas import GroupData
from enabley.models import Group
from enabley.uploads import rules
from enabley.uploads.csvfiles import CsvFile
from enabley.uploads.problems import Problems

COLUMNS = ("identifier", "name", "parentIdentifier", "type", "subAccountName")
REQUIRED = ("identifier", "name")
BATCH = 1000

_GROUPS = cast(Table, Group.__table__)
_PARENT = aliased(Group, name="parent_group")


@dataclass(slots=True)
class StoredGroup:
    id: int
    name: str
    type: str | None
    sub_account_id: int | None
    parent: str | None
    """The parent's identifier."""


@dataclass
class GroupsUpload:
    session: Session
    tenant: HasAccount
    file: CsvFile | None
    hierarchy: Sequence[str]
    sub_accounts: Mapping[str, int]
    problems: Problems
    identifiers: set[str] = field(default_factory=set)
    """Every identifier the file lists, whether its row is valid or not."""
    stored: dict[str, StoredGroup] = field(default_factory=dict)
    creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    unchanged: int = 0

    def check(self) -> None:
        if self.file is None:
            return
        rows = self._parse(self.file)
        referenced = {data.parent_identifier for _, data in rows.values() if data.parent_identifier}
        self.stored = self._load(self.identifiers | referenced)
        parents: dict[str, str | None] = {}
        for identifier, (line, data) in rows.items():
            wanted = self._wanted(line, data)
            if wanted is None:
                continue
            parents[identifier] = wanted.get("parent", self._stored_parent(identifier))
            current = self.stored.get(identifier)
            if current is None:
                self.creates[identifier] = wanted
                continue
            diff = group_rules.changes({key: getattr(current, key) for key in wanted}, wanted)
            if diff:
                self.updates[identifier] = wanted
            else:
                self.unchanged += 1
        self._check_cycles(rows, parents)

    def _parse(self, file: CsvFile) -> dict[str, tuple[int, GroupData]]:
        rows: dict[str, tuple[int, GroupData]] = {}
        first_line: dict[str, int] = {}
        columns = list(file.columns.items())
        for line, cells in file.rows(self.problems):
            identifier = cells[file.columns["identifier"]]
            if identifier in first_line:
                self.problems.add(
                    file.name,
                    line,
                    "identifier",
                    f"Duplicate identifier {identifier!r}: already on line {first_line[identifier]}",
                )
                continue
            first_line[identifier] = line
            self.identifiers.add(identifier)
            try:
                data = GroupData.model_validate({c: (cells[i] or None) for c, i in columns})
            except ValidationError as exc:
                for error in exc.errors():
                    self.problems.add(file.name, line, str(error["loc"][0]), rules.describe_error(error))
                continue
            rows[data.identifier] = (line, data)
        return rows

    def _wanted(self, line: int, data: GroupData) -> dict[str, Any] | None:
        """The stored values the row sets, as *Create or update Group* sets them; None when refused."""
        assert self.file is not None
        name = self.file.name
        creating = data.identifier not in self.stored
        given = data.model_fields_set
        wanted: dict[str, Any] = {"name": data.name}
        ok = True
        if creating or "sub_account_name" in given:
            sub = data.sub_account_name
            if sub is not None and sub not in self.sub_accounts:
                self.problems.add(name, line, "subAccountName", f"Unknown subAccountName {sub!r}")
                ok = False
            wanted["sub_account_id"] = self.sub_accounts.get(sub) if sub is not None else None
        if creating or "type" in given:
            refusal = group_rules.type_refusal(data.type, self.hierarchy)
            if refusal is not None:
                self.problems.add(name, line, "type", refusal)
                ok = False
            wanted["type"] = data.type
        if creating or "parent_identifier" in given:
            parent = data.parent_identifier
            if parent == data.identifier:
                self.problems.add(name, line, "parentIdentifier", f"Group {parent!r} can't be its own parent")
                ok = False
            elif parent is not None and parent not in self.stored and parent not in self.identifiers:
                self.problems.add(name, line, "parentIdentifier", f"Parent group {parent!r} not found")
                ok = False
            wanted["parent"] = parent
        return wanted if ok else None

    def _stored_parent(self, identifier: str) -> str | None:
        current = self.stored.get(identifier)
        return current.parent if current is not None else None

    def _check_cycles(
        self, rows: Mapping[str, tuple[int, GroupData]], parents: Mapping[str, str | None]
    ) -> None:
        # Only a stored group that moves can close a cycle through the stored tree; new groups
        # alone can only close one among themselves.
        moved = any(parents[g] != self.stored[g].parent for g in parents if g in self.stored)
        outside: dict[str, str | None] = {}
        if moved:
            starts = {p for p in parents.values() if p is not None and p not in parents and p in self.stored}
            outside = self._stored_chains([self.stored[p].id for p in starts])
        assert self.file is not None
        for identifier, cycle in rules.cycles(parents, outside).items():
            self.problems.add(
                self.file.name,
                rows[identifier][0],
                "parentIdentifier",
                f"Group {identifier!r} would be its own ancestor: {' -> '.join(cycle)}",
            )

    def _load(self, identifiers: Iterable[str]) -> dict[str, StoredGroup]:
        found: dict[str, StoredGroup] = {}
        for batch in chunks(identifiers, BATCH):
            stmt = (
                owned(Group, self.tenant)
                .with_only_columns(
                    Group.id,
                    Group.external_id,
                    Group.name,
                    Group.type,
                    Group.sub_account_id,
                    _PARENT.external_id.label("parent"),
                )
                .outerjoin(_PARENT, _PARENT.id == Group.parent_id)
                .where(Group.external_id.in_(batch))
            )
            for row in self.session.execute(stmt):
                found[row.external_id] = StoredGroup(
                    row.id, row.name, row.type, row.sub_account_id, row.parent
                )
        return found

    def _stored_chains(self, ids: Sequence[int]) -> dict[str, str | None]:
        """Identifier -> parent identifier of these stored groups and all their ancestors."""
        parent_of: dict[int, int | None] = {}
        identifier_of: dict[int, str] = {}
        for batch in chunks(ids, BATCH):
            start = (
                owned(Group, self.tenant)
                .with_only_columns(Group.id, Group.external_id, Group.parent_id)
                .where(Group.id.in_(batch))
                .cte("chain", recursive=True)
            )
            # UNION stops at groups already seen.
            chain = start.union(
                owned(Group, self.tenant)
                .with_only_columns(Group.id, Group.external_id, Group.parent_id)
                .join(start, Group.id == start.c.parent_id)
            )
            for row in self.session.execute(select(chain.c.id, chain.c.external_id, chain.c.parent_id)):
                parent_of[row.id], identifier_of[row.id] = row.parent_id, row.external_id
        return {
            identifier_of[i]: identifier_of.get(p) if p is not None else None for i, p in parent_of.items()
        }

    def write(self, now: datetime) -> dict[str, int]:
        """Create and update the checked groups; answers the id of every group the upload names."""
        ids = {identifier: group.id for identifier, group in self.stored.items()}
        levels = rules.creation_levels({g: wanted["parent"] for g, wanted in self.creates.items()})
        create = insert(_GROUPS).returning(_GROUPS.c.id, _GROUPS.c.external_id)
        for level in levels:
            for batch in chunks(level, BATCH):
                params = [
                    {**self._row(g, self.creates[g], ids), "created_at": now, "modified_at": now}
                    for g in batch
                ]
                for row in self.session.execute(create, params):
                    ids[row.external_id] = row.id
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for identifier, wanted in self.updates.items():
            values = self._row(identifier, wanted, ids)
            del values["account_id"], values["external_id"]
            values["modified_at"] = now
            binds = {f"p_{key}": value for key, value in values.items()}
            by_keys.setdefault(tuple(values), []).append({"p_id": self.stored[identifier].id, **binds})
        for keys, rows in by_keys.items():
            self.session.execute(
                update(_GROUPS).where(_GROUPS.c.id == bulk.bind("id")).values(bulk.binds(keys)), rows
            )
        groups_service.emit_written(self.session, self.tenant, self.creates.keys(), self.updates.keys())
        return ids

    def _row(self, identifier: str, wanted: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
        values = {key: value for key, value in wanted.items() if key != "parent"}
        if "parent" in wanted:
            values["parent_id"] = ids[wanted["parent"]] if wanted["parent"] is not None else None
        return {"account_id": self.tenant.account_id, "external_id": identifier, **values}

    def counts(self) -> tuple[int, int, int]:
        return len(self.creates), len(self.updates), self.unchanged
