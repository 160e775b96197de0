"""Alembic's environment for the store: runs on the connection the store hands it.

:meth:`clic_geo.store.Store.migrate` puts its connection in
``config.attributes["connection"]``; each revision runs in its own transaction and,
in that same transaction, the ``meta`` table's ``schema_version`` is set to the
revision's number (so an older clic-geo refuses a store it does not understand).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

_meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def _stamp_meta(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    if not step.is_upgrade:
        return
    number = str(int(step.up_revision_id))
    conn = ctx.connection
    conn.execute(sa.delete(_meta).where(_meta.c.key == "schema_version"))
    conn.execute(sa.insert(_meta).values(key="schema_version", value=number))


def run() -> None:
    """Run the migrations on the connection the store handed Alembic."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=None,
        transaction_per_migration=True,
        render_as_batch=connection.dialect.name == "sqlite",
        on_version_apply=_stamp_meta,
    )
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # run by Alembic (not merely imported, e.g. by doctest)
    run()
