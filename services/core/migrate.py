"""Run the Alembic migrations programmatically (runner start-up, CLI and tests share this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from services.core.db import database_url
from services.core.settings import PROJECT_ROOT


def sqlalchemy_url(url: str | None = None) -> str:
    """Alembic goes through SQLAlchemy; point it at the psycopg 3 driver we already ship."""
    raw = url or database_url()
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(PROJECT_ROOT) / "migrations"))
    cfg.attributes["database_url"] = sqlalchemy_url(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
