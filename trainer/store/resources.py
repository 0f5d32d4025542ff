"""Where the files shipped with trainer are: the built-in decks and the Alembic scripts.

In a checkout (or an editable install) they are the repo's top-level ``decks/`` and
``migrations/``; a built wheel carries the same folders inside the package as ``_decks`` and
``_migrations`` (see ``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def _shipped(packaged: str, in_repo: str) -> Path:
    inside = _PACKAGE / packaged
    return inside if inside.is_dir() else _PACKAGE.parent / in_repo


DECKS_DIR = _shipped("_decks", "decks")
MIGRATIONS_DIR = _shipped("_migrations", "migrations")
