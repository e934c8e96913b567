"""Substring search indexes for users: trigram GIN indexes on PostgreSQL, an FTS5 trigram table on SQLite

The case-folded copies of email, first name, last name and username are searched with
LIKE '%text%'. A B-tree can't serve that; trigram indexes can, on both databases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("email_key", "first_name_key", "last_name_key", "username_key")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in COLUMNS:
            op.execute(f"CREATE INDEX ix_users_{column}_trgm ON users USING gin ({column} gin_trgm_ops)")
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE users_search USING fts5("
            "email_key, first_name_key, last_name_key, username_key, "
            "content='users', content_rowid='id', tokenize='trigram')"
        )
        # External-content FTS: the triggers keep the index in step with the users table.
        op.execute(
            "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
            "INSERT INTO users_search(rowid, email_key, first_name_key, last_name_key, username_key) "
            "VALUES (new.id, new.email_key, new.first_name_key, new.last_name_key, new.username_key); END"
        )
        op.execute(
            "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
            "INSERT INTO users_search"
            "(users_search, rowid, email_key, first_name_key, last_name_key, username_key) "
            "VALUES ('delete', old.id, "
            "old.email_key, old.first_name_key, old.last_name_key, old.username_key); END"
        )
        op.execute(
            "CREATE TRIGGER users_search_update "
            "AFTER UPDATE OF email_key, first_name_key, last_name_key, username_key ON users BEGIN "
            "INSERT INTO users_search"
            "(users_search, rowid, email_key, first_name_key, last_name_key, username_key) "
            "VALUES ('delete', old.id, "
            "old.email_key, old.first_name_key, old.last_name_key, old.username_key); "
            "INSERT INTO users_search(rowid, email_key, first_name_key, last_name_key, username_key) "
            "VALUES (new.id, new.email_key, new.first_name_key, new.last_name_key, new.username_key); END"
        )
        op.execute("INSERT INTO users_search(users_search) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_users_{column}_trgm")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS users_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS users_search")
