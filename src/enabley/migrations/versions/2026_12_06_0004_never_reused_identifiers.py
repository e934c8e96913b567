"""Identifiers never reused, link ids, an index behind every foreign key, tallies that let accounts go

- SQLite gave a new row the highest id plus one, so the newest row's id went to the next row once
  it was deleted: every table with a generated id is rebuilt with AUTOINCREMENT (PostgreSQL's
  sequences never go back).
- Users and certificates get a ``link_id``, random after a time prefix: what certificate links
  name them by.
- Every foreign key gets an index, so a cascade from a deleted row finds the rows referencing it
  without scanning their table (an account's deletion cascades through all of them).
- PostgreSQL: deleting users (or sub-account memberships) along with their account (or
  sub-account) tried to count them down in a tally of a parent already gone, a foreign key
  violation that made such an account impossible to delete.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:00:00
"""

# ruff: noqa: S608 - the statements are built from this module's own constant names, no input

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENERATED_IDS = (
    "accounts",
    "sub_accounts",
    "api_clients",
    "users",
    "entitlements",
    "certificates",
    "profiles",
    "workspaces",
    "groups",
    "channels",
    "channel_items",
    "catalog_entries",
)
LINKED = ("users", "certificates")
FOREIGN_KEY_INDEXES = (
    ("ix_catalog_entries_account_id", "catalog_entries", "account_id"),
    ("ix_catalog_entries_sub_account_id", "catalog_entries", "sub_account_id"),
    ("ix_channel_items_account_id", "channel_items", "account_id"),
    ("ix_channels_sub_account_id", "channels", "sub_account_id"),
    ("ix_entitlements_account_id", "entitlements", "account_id"),
    ("ix_groups_sub_account_id", "groups", "sub_account_id"),
    ("ix_item_progress_item_id", "item_progress", "item_id"),
)
# Random UUIDs led by the time they are made (models/identity.py), so that the bulk upload adds to
# the end of the link id's index instead of all over it.
ORDERED_UUID = {
    "postgresql": "(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') "
    "|| right(replace(gen_random_uuid()::text, '-', ''), 20))::uuid",
    "sqlite": "(printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) "
    "|| lower(hex(randomblob(10))))",
}

# The triggers on users of migrations 0002 (search) and 0003 (tallies): SQLite drops them with the
# table when it is rebuilt.
SEARCHED = "email_key, first_name_key, last_name_key, username_key"
NEW_ROW = "new.id, new.email_key, new.first_name_key, new.last_name_key, new.username_key"
OLD_ROW = "'delete', old.id, old.email_key, old.first_name_key, old.last_name_key, old.username_key"
USERS_TRIGGERS_SQLITE = (
    f"CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    f"INSERT INTO users_search(rowid, {SEARCHED}) VALUES ({NEW_ROW}); END",
    f"CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    f"INSERT INTO users_search(users_search, rowid, {SEARCHED}) VALUES ({OLD_ROW}); END",
    f"CREATE TRIGGER users_search_update AFTER UPDATE OF {SEARCHED} ON users BEGIN "
    f"INSERT INTO users_search(users_search, rowid, {SEARCHED}) VALUES ({OLD_ROW}); "
    f"INSERT INTO users_search(rowid, {SEARCHED}) VALUES ({NEW_ROW}); END",
    "CREATE TRIGGER user_tallies_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO user_tallies (account_id, stripe, users) VALUES (new.account_id, 0, 1) "
    "ON CONFLICT (account_id, stripe) DO UPDATE SET users = users + 1; END",
    "CREATE TRIGGER user_tallies_delete AFTER DELETE ON users BEGIN "
    "UPDATE user_tallies SET users = users - 1 WHERE account_id = old.account_id AND stripe = 0; END",
)

STRIPES = 16
# (tally table, its key column, the table that key points to, the counted table's column)
TALLIES = (
    ("user_tallies", "account_id", "accounts", "account_id"),
    ("sub_account_tallies", "sub_account_id", "sub_accounts", "sub_account_id"),
)


def _tally_delete_postgresql(
    tally: str, key: str, parent: str, column: str, *, parent_must_exist: bool
) -> None:
    # Rows deleted along with their parent (the cascade from an account or a sub-account) are not
    # counted down: the parent's tally goes with it, and a tally row naming it can't be written.
    kept = (
        f"WHERE EXISTS (SELECT 1 FROM {parent} WHERE {parent}.id = old_rows.{column}) "
        if parent_must_exist
        else ""
    )
    op.execute(
        f"CREATE OR REPLACE FUNCTION {tally}_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {tally} ({key}, stripe, users) "
        f"SELECT {column}, pg_backend_pid() % {STRIPES}, -count(*) FROM old_rows {kept}GROUP BY {column} "
        f"ON CONFLICT ({key}, stripe) DO UPDATE SET users = {tally}.users + excluded.users; "
        "RETURN NULL; END $$"
    )


def _rebuild_sqlite(*, autoincrement: bool) -> None:
    """Recreate each table with a generated id (SQLite's way to change a table), AUTOINCREMENT or
    not, with or without its link id. Foreign keys are off while migrating (``enabley.migrate``):
    dropping the old copy of a table must not cascade to the rows that reference it."""
    for table in GENERATED_IDS:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ) as batch:
            if table not in LINKED:
                continue
            if autoincrement:
                # The rows copied into the new table each get their own random value.
                batch.add_column(
                    sa.Column(
                        "link_id", sa.Uuid(), server_default=sa.text(ORDERED_UUID["sqlite"]), nullable=False
                    ),
                    insert_after="external_id",
                )
                batch.create_unique_constraint(f"uq_{table}_link_id", ["link_id"])
            else:
                batch.drop_constraint(f"uq_{table}_link_id", type_="unique")
                batch.drop_column("link_id")
    for statement in USERS_TRIGGERS_SQLITE:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _rebuild_sqlite(autoincrement=True)
    else:
        for table in LINKED:
            # A volatile default: PostgreSQL rewrites the table, each row getting its own value.
            op.add_column(
                table,
                sa.Column(
                    "link_id", sa.Uuid(), server_default=sa.text(ORDERED_UUID["postgresql"]), nullable=False
                ),
            )
            op.create_unique_constraint(f"uq_{table}_link_id", table, ["link_id"])
        for tally, key, parent, column in TALLIES:
            _tally_delete_postgresql(tally, key, parent, column, parent_must_exist=True)
    for name, table, column in FOREIGN_KEY_INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table, _column in FOREIGN_KEY_INDEXES:
        op.drop_index(name, table_name=table)
    if dialect == "sqlite":
        _rebuild_sqlite(autoincrement=False)
    else:
        for tally, key, parent, column in TALLIES:
            _tally_delete_postgresql(tally, key, parent, column, parent_must_exist=False)
        for table in LINKED:
            op.drop_constraint(f"uq_{table}_link_id", table, type_="unique")
            op.drop_column(table, "link_id")
