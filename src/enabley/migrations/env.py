"""Alembic environment: migrates the connection handed over by ``enabley.migrate``, or the
database named by ENABLEY_DATABASE_URL when alembic is run by hand."""

from __future__ import annotations

from alembic import context

import enabley.models  # noqa: F401 - registers every table
from enabley.db.base import Base
from enabley.migrate import check_foreign_keys, include_object, locked_connection

target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        before = context.get_context().get_current_heads()
        context.run_migrations()
        if context.get_context().get_current_heads() != before:
            check_foreign_keys(connection)  # type: ignore[arg-type]


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with locked_connection(context.config.get_main_option("sqlalchemy.url")) as conn:
        _run(conn)
