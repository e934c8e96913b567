"""A change-log row may hold many events of one type written together (a bundle): ``span``

See docs/decisions/0016-bundled-upload-events.md: a row holds ``span`` events, numbered
``position - span + 1`` to ``position``; every row written before holds one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# PostgreSQL compresses a value over about 2 kB (a bundle's) when it stores it: lz4 in half the
# time of the default pglz, to the same size (bench/README.md). Where the server was built
# without lz4, the default stands.
LZ4_AVAILABLE = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


def upgrade() -> None:
    # A constant default: SQLite adds the column in place, PostgreSQL without rewriting the table.
    op.add_column("events", sa.Column("span", sa.Integer(), server_default=sa.text("1"), nullable=False))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.execute(sa.text(LZ4_AVAILABLE)).scalar():
        op.execute("ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN data SET COMPRESSION default")
    _unbundle(bind)
    with op.batch_alter_table("events") as batch:
        batch.drop_column("span")


def _unbundle(connection: sa.Connection) -> None:
    """Every bundle laid out as rows of one event each, as 0015's layout holds them: the same
    ids, types, times and data, a numbered bundle's events at the positions they had (free:
    the bundle's row held the last of them). An unnumbered bundle's events are numbered after
    the rows written before the downgrade ran."""
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("event_id", sa.String),
        sa.column("type", sa.String),
        sa.column("occurred_at"),  # as stored, either way
        sa.column("data", sa.JSON),
        sa.column("position", sa.BigInteger),
        sa.column("span", sa.Integer),
        sa.column("account_id", sa.Integer),
    )
    after = 0
    while True:
        bundles = connection.execute(
            sa.select(
                *(c for c in events.c if c.name != "data"), sa.cast(events.c.data, sa.Text).label("text")
            )
            .where(events.c.span > 1, events.c.id > after)
            .order_by(events.c.id)
            .limit(100)
        ).all()
        if not bundles:
            return
        for bundle in bundles:
            table = json.loads(bundle.text)
            keys, common = table["keys"], table["common"]
            columns = table["columns"]
            first = None if bundle.position is None else bundle.position - bundle.span + 1
            connection.execute(events.delete().where(events.c.id == bundle.id))  # its position first
            connection.execute(
                events.insert(),
                [
                    {
                        "event_id": f"{bundle.event_id[:-4]}{index:04x}",
                        "type": bundle.type,
                        "occurred_at": bundle.occurred_at,
                        "data": {
                            **{key: column[index] for key, column in zip(keys, columns, strict=True)},
                            **common,
                        },
                        "position": None if first is None else first + index,
                        "account_id": bundle.account_id,
                    }
                    for index in range(bundle.span)
                ],
            )
        after = bundles[-1].id
