"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from enabley import migrate
from enabley.db import Base, make_engine


def test_models_and_migrations_agree(engine):
    """What `alembic check` verifies: autogenerate would find nothing to add."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade(scratch):
    url = scratch.new()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    config = migrate.alembic_config(url)
    with migrate.locked_connection(url) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    migrate.upgrade(url)  # a second run finds nothing to do
    assert migrate.current_revision(url) == migrate.head_revision()
