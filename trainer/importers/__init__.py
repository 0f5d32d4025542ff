"""Reading decks from the formats learners already have (``trainer import``).

Each format's reader turns a file into an :class:`~trainer.importers.imported.ImportedDeck`
(pure: no database, ``file:line`` errors); :mod:`trainer.importers.store` maps it onto decks and
cards through the idempotent :func:`trainer.content.builtin_sync.upsert_cards`.
"""
