"""Alembic environment: SQL-first migrations on the database SourcingX is configured for."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from services.core.migrate import sqlalchemy_url


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url") or sqlalchemy_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=None, transaction_per_migration=True
        )
        with context.begin_transaction():
            # Two processes migrating at once (several containers starting) must not race.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7261946)")
            context.run_migrations()


run_migrations_online()
