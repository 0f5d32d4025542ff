"""Alembic environment: the same engine set-up as the app (trainer.store.db.create_db_engine)."""

from __future__ import annotations

import os

from alembic import context

from trainer.store.db import create_db_engine, database_url
from trainer.store.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The app passes its URL; a developer's `alembic` command uses TRAINER_DB, else alembic.ini.
    location = (
        config.attributes.get("url")
        or os.environ.get("TRAINER_DB")
        or config.get_main_option("sqlalchemy.url")
        or ""
    )
    engine = create_db_engine(database_url(location))
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render UTCDateTime as the ``sa.DateTime()`` it stores: scripts never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


if context.is_offline_mode():
    raise SystemExit("trainer migrations run online only: set TRAINER_DB or sqlalchemy.url")
run_migrations()
