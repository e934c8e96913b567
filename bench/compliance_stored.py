"""What the compliance reads would cost over stored certification and expiration dates.

A sizing experiment for the design discussed in bench/README.md (compliance section), not the
API: on one connection to the scale dataset, a *temporary* table receives every (learner,
certificate) pair's facts and dates, computed by the application's own classification SQL
(``compliance.query``, ``scope=all``), with an index on (account, certificate, expiration date,
user); then hand-written reads classify the pairs against ``now`` in the query, as the stored
design would. Then a second temporary table keeps counts (per group, certificate and unearned
state, the distinct learners of the group's subtree by expiration day) and the summary is read
from it. Nothing is written to the dataset (the tables are the connection's own and go with
it). SQLite: CPU time of this process (the database works in it); PostgreSQL: the server's
``EXPLAIN ANALYZE`` execution time. Median of ``--repeat`` runs, in milliseconds.

    python bench/compliance_stored.py --backend sqlite --users 100000
    python bench/compliance_stored.py --backend postgresql --users 100000   # ENABLEY_BENCH_POSTGRES_URL
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent.parent / "src"), str(Path(__file__).parent.parent)]
from sqlalchemy import (  # noqa: E402
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session  # noqa: E402

from bench import compliance, scale_data  # noqa: E402
from enabley.compliance import query, service  # noqa: E402
from enabley.compliance.schemas import SummaryQuery  # noqa: E402
from enabley.db.columns import UtcDateTime  # noqa: E402

GROUP = "d0-division-0"
CERTIFICATE = scale_data.certificate_id_of(scale_data.COMPLIANCE_CERTIFICATE)
WARNING_DAYS = 30
TABLE = "bench_stored_dates"
COUNTS = "bench_group_counts"
INSTANTS = {"now": 0, "warn": WARNING_DAYS, "within": WARNING_DAYS}
"""The instants a read compares the dates with, in days from now."""


class Tenant:
    def __init__(self, account_id: int) -> None:
        self.account_id = account_id


STORED = Table(
    TABLE,
    MetaData(),
    Column("account_id", Integer, nullable=False),
    Column("certificate_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("is_required", Integer, nullable=False),
    Column("unearned_state", String(32)),
    Column("certification_date", UtcDateTime()),
    Column("expiration_date", UtcDateTime()),
    Index(f"{TABLE}_pair", "user_id", "certificate_id", unique=True),
    Index(f"{TABLE}_walk", "account_id", "certificate_id", "expiration_date", "user_id"),
    prefixes=["TEMPORARY"],
)
"""Each pair's facts and dates: the columns a stored design would keep."""


def fill(conn: Connection, account_id: int) -> int:
    """The temporary table, from the application's classification SQL; its row count."""
    tenant = Tenant(account_id)
    filters = SummaryQuery.model_validate({"scope": "all"})
    resolved = service.Resolved(Session(bind=conn), tenant, filters, WARNING_DAYS)
    # The application's one definition of the dates, so the experiment reads what it would store.
    dates = query._certified(conn.dialect.name, tenant, resolved.selection)
    STORED.create(conn)
    conn.execute(
        STORED.insert().from_select(
            [column.name for column in STORED.columns],
            select(
                literal(account_id),
                dates.c.certificate_id,
                dates.c.user_id,
                dates.c.is_required,
                dates.c.unearned_state,
                dates.c.certification_date,
                dates.c.expiration_date,
            ),
        )
    )
    if conn.dialect.name == "postgresql":  # a temporary table is never analysed by autovacuum
        conn.exec_driver_sql(f"ANALYZE {TABLE}")
    return int(conn.execute(select(func.count()).select_from(STORED)).scalar_one())


def _day(dialect: str, column: str) -> str:
    """The UTC calendar day of a stored instant, as text 'YYYY-MM-DD' or a date."""
    return f"CAST({column} AS DATE)" if dialect == "postgresql" else f"substr({column}, 1, 10)"


def fill_counts(conn: Connection, account_id: int) -> int:
    """Per group, certificate and unearned state: the distinct learners of the group's whole
    subtree by expiration day (multiple memberships rule out summing a group's children). The
    temporary table of a design that keeps counts; its row count."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql("SET TIME ZONE 'UTC'")  # this connection's days are UTC days
    day = _day(dialect, "d.expiration_date")
    conn.exec_driver_sql(
        # A utility statement takes no parameters on PostgreSQL: the id is an integer of ours.
        f"CREATE TEMPORARY TABLE {COUNTS} AS "
        "WITH RECURSIVE up(ancestor, group_id) AS ("
        f"SELECT id, id FROM groups WHERE account_id = {int(account_id)} "
        "UNION SELECT up.ancestor, groups.id FROM groups JOIN up ON groups.parent_id = up.group_id), "
        "members AS (SELECT DISTINCT up.ancestor, user_groups.user_id "
        "FROM up JOIN user_groups ON user_groups.group_id = up.group_id) "
        "SELECT members.ancestor AS group_id, d.certificate_id, d.is_required, d.unearned_state, "
        f"{day} AS due_day, count(*) AS learners "
        f"FROM members JOIN {TABLE} d ON d.user_id = members.user_id "
        f"GROUP BY members.ancestor, d.certificate_id, d.is_required, d.unearned_state, {day}"
    )
    conn.exec_driver_sql(f"CREATE INDEX {COUNTS}_read ON {COUNTS} (certificate_id, group_id)")
    if dialect == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {COUNTS}")
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {COUNTS}").scalar_one())


def count_reads() -> dict[str, str]:
    """Reads of the kept counts (day precision: see bench/README.md); :today and :warn_day are
    days, as the table's."""
    state = (
        "CASE WHEN c.unearned_state IS NOT NULL THEN c.unearned_state "
        "WHEN c.due_day IS NULL THEN 'CERTIFIED' WHEN c.due_day <= :today THEN 'EXPIRED' "
        "WHEN c.due_day <= :warn_day THEN 'ABOUT_TO_EXPIRE' ELSE 'CERTIFIED' END"
    )
    scope = (
        "c.is_required = 1 AND (c.group_id = :group "
        "OR c.group_id IN (SELECT id FROM groups WHERE parent_id = :group))"
    )
    return {
        "summary, overall + per child, from kept counts": f"SELECT c.group_id, {state} AS s, "
        f"sum(c.learners) FROM {COUNTS} c WHERE c.certificate_id = :certificate AND {scope} "
        "GROUP BY 1, 2",
        "summary, all certificates, from kept counts": f"SELECT c.certificate_id, c.group_id, "
        f"{state} AS s, sum(c.learners) FROM {COUNTS} c WHERE {scope} GROUP BY 1, 2, 3",
        "first page's count (NON_COMPLIANT), from kept counts": f"SELECT sum(c.learners) "
        f"FROM {COUNTS} c WHERE c.certificate_id = :certificate AND c.is_required = 1 "
        "AND c.group_id = :group AND (c.unearned_state IS NOT NULL OR c.due_day <= :today)",
    }


def reads(dialect: str) -> dict[str, str]:
    """The hand-written reads, by name; parameters :account, :certificate, :group, :now, :warn."""
    walk = f"INDEXED BY {TABLE}_walk" if dialect == "sqlite" else ""
    tree = (
        "WITH RECURSIVE t(g) AS (SELECT CAST(:group AS INTEGER) "
        "UNION SELECT groups.id FROM groups JOIN t ON groups.parent_id = t.g) "
    )
    kids = (
        "WITH RECURSIVE k(root, g) AS (SELECT id, id FROM groups WHERE parent_id = :group "
        "UNION SELECT k.root, groups.id FROM groups JOIN k ON groups.parent_id = k.g) "
    )
    state = (
        "CASE WHEN d.unearned_state IS NOT NULL THEN d.unearned_state "
        "WHEN d.expiration_date IS NULL THEN 'CERTIFIED' WHEN d.expiration_date <= :now THEN 'EXPIRED' "
        "WHEN d.expiration_date <= :warn THEN 'ABOUT_TO_EXPIRE' ELSE 'CERTIFIED' END"
    )
    pairs = f"FROM {TABLE} d WHERE d.account_id = :account AND d.is_required = 1"
    members = "d.user_id IN (SELECT user_id FROM user_groups WHERE group_id IN (SELECT g FROM t))"
    probe = (
        "EXISTS (SELECT 1 FROM user_groups ug "
        "WHERE ug.user_id = d.user_id AND ug.group_id IN (SELECT g FROM t))"
    )
    page = (
        f"SELECT d.* FROM {TABLE} d {walk} WHERE d.account_id = :account AND d.certificate_id = :certificate"
    )
    order = "AND d.is_required = 1 AND " + probe + " ORDER BY d.expiration_date, d.user_id LIMIT 101"
    return {
        "summary, overall counts": tree + f"SELECT {state} AS s, count(*) {pairs} "
        f"AND d.certificate_id = :certificate AND {members} GROUP BY 1",
        "summary, per child group (DISTINCT memberships)": kids
        + f"SELECT cm.root, {state} AS s, count(*) FROM {TABLE} d "
        "JOIN (SELECT DISTINCT k.root, ug.user_id FROM k JOIN user_groups ug ON ug.group_id = k.g) cm "
        "ON cm.user_id = d.user_id WHERE d.account_id = :account AND d.certificate_id = :certificate "
        "AND d.is_required = 1 GROUP BY 1, 2",
        "summary, all certificates, overall counts": tree
        + f"SELECT d.certificate_id, {state} AS s, count(*) {pairs} AND {members} GROUP BY 1, 2",
        "learners page, ALL (walk, probe)": tree + f"{page} {order}",
        "learners page, NON_COMPLIANT (walk, probe)": tree
        + f"{page} AND NOT (d.unearned_state IS NULL AND (d.expiration_date IS NULL "
        f"OR d.expiration_date > :now)) {order}",
        "learners page, EXPIRING (walk, probe)": tree
        + f"{page} AND d.unearned_state IS NULL AND d.expiration_date > :now "
        f"AND d.expiration_date <= :within {order}",
        "learners page, ALL (members' set first, sorted)": tree
        + f"SELECT d.* {pairs} AND d.certificate_id = :certificate AND {members} "
        "ORDER BY d.expiration_date, d.user_id LIMIT 101",
    }


def timed(conn: Connection, sql: str, params: dict[str, Any], repeat: int) -> float:
    instants = [bindparam(name, type_=UtcDateTime()) for name in INSTANTS if re.search(rf":{name}\b", sql)]
    stmt = text(sql).bindparams(*instants)
    if conn.dialect.name == "postgresql":
        found = []
        explain = text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}").bindparams(*instants)
        for _ in range(repeat):
            plan = [row[0] for row in conn.execute(explain, params)]
            found.append(float(plan[-1].split(":")[1].split()[0]))
        return statistics.median(found)
    spent = []
    for _ in range(repeat):
        start = time.process_time()
        conn.execute(stmt, params).all()
        spent.append(time.process_time() - start)
    return statistics.median(spent) * 1000


def run(backend: str, users: int, repeat: int, postgres_url: str | None) -> None:
    found = scale_data.dataset(backend, users, postgres_url=postgres_url)
    engine = create_engine(found.url)
    with engine.connect() as conn:
        account = conn.execute(text("SELECT account_id FROM groups WHERE external_id = :g"), {"g": GROUP})
        account_id = account.scalar_one()
        ids = {"account": account_id}
        ids["group"] = conn.execute(
            text("SELECT id FROM groups WHERE account_id = :a AND external_id = :g"),
            {"a": account_id, "g": GROUP},
        ).scalar_one()
        ids["certificate"] = conn.execute(
            text("SELECT id FROM certificates WHERE account_id = :a AND external_id = :c"),
            {"a": account_id, "c": CERTIFICATE},
        ).scalar_one()
        start = time.perf_counter()
        rows = fill(conn, account_id)
        print(f"\n{backend}, {users:,} users: {rows:,} pairs stored in {time.perf_counter() - start:.1f} s")
        now = datetime.now(UTC)
        instants = {name: now + timedelta(days=days) for name, days in INSTANTS.items()}
        for name, sql in reads(conn.dialect.name).items():
            spent = timed(conn, sql, {**ids, **instants}, repeat)
            print(f"  {name:<55} {spent:8.1f} ms", flush=True)
        start = time.perf_counter()
        rows = fill_counts(conn, account_id)
        print(f"  {rows:,} kept counts built in {time.perf_counter() - start:.1f} s")
        days = {"today": now.date().isoformat(), "warn_day": instants["warn"].date().isoformat()}
        for name, sql in count_reads().items():
            spent = timed(conn, sql, {**ids, **days}, repeat)
            print(f"  {name:<55} {spent:8.1f} ms", flush=True)
        conn.rollback()


if __name__ == "__main__":
    sys.exit(compliance.main(run, repeat=3, doc=__doc__))
