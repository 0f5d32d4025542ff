"""``trainer lint``: checks a deck author runs before committing (pure: files in, findings out).

Errors: anything the parser refuses, a front used twice in a file, an answer that stands verbatim
in its question, Python code that does not compile, a code block without a language. Warnings:
over-long answers. For the built-in decks (a folder holding ``roadmap.md``) also every topic's
card counts: at least :data:`MIN_TOPIC_CARDS` cards, and :data:`MIN_SUBTOPIC_CARDS` tagged with
each subtopic named in the roadmap's parentheses; where a topic names subtopics, every card
carries at least one of their tags.

Coverage (``[[coverage]]`` points and cards' ``covers``, see ``docs/deck-format.md``): a point
that no card covers is a warning, and so is a built-in deck without a must-know list; a
``covers`` id naming no point is an error of the parser.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from trainer.content.parser import CardSpec, DeckSpec, parse_deck, parse_roadmap
from trainer.errors import DeckError, Problem
from trainer.store.lookup import slugify

MIN_TOPIC_CARDS = 15
MIN_SUBTOPIC_CARDS = 3
#: An answer longer than this (code blocks not counted) is hard to rate honestly.
MAX_ANSWER_CHARS = 600
FENCE_RE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """One problem and its ``level``: ``"error"`` or ``"warning"``; reads
    ``path:line: level: message``."""

    level: str
    problem: Problem

    def __str__(self) -> str:
        return f"{self.problem.location}: {self.level}: {self.problem.message}"


def _error(path: Path | str, line: int | None, message: str) -> Finding:
    return Finding("error", Problem(str(path), line, message))


def deck_files(paths: list[Path]) -> list[Path]:
    """The ``.toml`` files named, or found below the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.toml")) if path.is_dir() else [path])
    return found


@dataclass(frozen=True)
class LintReport:
    """What :func:`lint_paths` found: ``findings`` in file order, the number of ``cards`` read,
    and the ``decks`` that parsed (each with its coverage points), in file order."""

    findings: list[Finding]
    cards: int
    decks: list[DeckSpec]


def lint_paths(paths: list[Path]) -> LintReport:
    """Lint every deck file under ``paths``.

    A folder holding ``roadmap.md`` is linted as built-in decks (topic, docs links, coverage
    list and the roadmap's card counts required).
    """
    findings: list[Finding] = []
    parsed: list[DeckSpec] = []
    cards = 0
    for path in paths:
        roadmap = path / "roadmap.md" if path.is_dir() else None
        builtin = roadmap is not None and roadmap.is_file()
        decks: list[DeckSpec] = []
        for file in deck_files([path]):
            deck, problems = _lint_file(file, builtin)
            findings.extend(problems)
            if deck is not None:
                decks.append(deck)
                cards += len(deck.cards)
        if builtin and roadmap is not None:
            findings.extend(_card_counts(roadmap, decks))
        parsed.extend(decks)
    return LintReport(findings, cards, parsed)


def _lint_file(path: Path, builtin: bool) -> tuple[DeckSpec | None, list[Finding]]:
    if path.suffix.lower() != ".toml":
        message = "not a deck in trainer's format (.toml); trainer import --dry-run reads others"
        return None, [_error(path, None, message)]
    try:
        deck = parse_deck(path.read_text(encoding="utf-8"), str(path), builtin=builtin)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [_error(path, None, f"cannot read: {exc}")]
    except DeckError as exc:
        return None, [Finding("error", problem) for problem in exc.problems]
    findings: list[Finding] = []
    if not deck.cards:
        findings.append(Finding("warning", Problem(str(path), 1, "the deck has no cards")))
    if builtin and not deck.coverage:
        message = "the deck has no [[coverage]] list of the topic's must-know points"
        findings.append(Finding("warning", Problem(str(path), 1, message)))
    covered = {point for card in deck.cards for point in card.covers}
    for point in deck.coverage:
        if point.key not in covered:
            message = f"coverage point '{point.key}' has no card"
            findings.append(Finding("warning", Problem(str(path), point.line, message)))
    fronts: dict[str, int | None] = {}
    for card in deck.cards:
        findings.extend(
            Finding(level, Problem(str(path), card.line, msg)) for level, msg in check_card(card)
        )
        if card.kind != "cloze":
            key = card.front.strip().casefold()
            if key in fronts:
                findings.append(_error(path, card.line, f"same front as line {fronts[key]}"))
            fronts.setdefault(key, card.line)
    return deck, findings


def check_card(card: CardSpec) -> list[tuple[str, str]]:
    """Content checks of one parsed card, as ``(level, message)`` pairs."""
    problems: list[tuple[str, str]] = []
    label = f"card '{card.key}'"
    for field, text in (("front", card.front), ("back", card.back)):
        for language, code in FENCE_RE.findall(text):
            language = language.strip().lower()
            if not language:
                problems.append(("error", f"{label}: code block in {field} has no language"))
            elif language in ("python", "py") and (error := _compile_error(code)):
                where = (
                    "code" if card.kind == "output" and field == "front" else f"python in {field}"
                )
                problems.append(("error", f"{label}: {where} does not compile: {error}"))
    for answer in _answers(card):
        if len(answer) >= 3 and re.search(
            rf"(?<!\w){re.escape(answer.casefold())}(?!\w)", card.front.casefold()
        ):
            problems.append(("error", f"{label}: the answer '{answer}' stands in the question"))
            break
    prose = FENCE_RE.sub("", card.back)
    if len(prose) > MAX_ANSWER_CHARS:
        problems.append(
            ("warning", f"{label}: answer is {len(prose)} characters (over {MAX_ANSWER_CHARS})")
        )
    return problems


def _answers(card: CardSpec) -> list[str]:
    if card.kind == "typed":
        return list(card.accepted)
    if card.kind == "basic":
        return [card.back.strip()]
    return []


def _compile_error(code: str) -> str | None:
    try:
        compile(code, "<card>", "exec")
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    return None


def _card_counts(roadmap: Path, decks: list[DeckSpec]) -> list[Finding]:
    try:
        sections = parse_roadmap(roadmap.read_text(encoding="utf-8"), str(roadmap))
    except DeckError as exc:
        return [Finding("error", problem) for problem in exc.problems]
    by_topic = {deck.topic: deck for deck in decks}
    findings: list[Finding] = []
    for section in sections:
        for topic in section.topics:
            deck = by_topic.get(topic.slug)
            if deck is None:
                findings.append(_error(roadmap, topic.line, f"topic '{topic.slug}' has no deck"))
                continue
            tags = Counter(tag for card in deck.cards for tag in set(card.tags))
            if len(deck.cards) < MIN_TOPIC_CARDS:
                findings.append(
                    _error(
                        deck.path,
                        1,
                        f"topic '{topic.slug}' has {len(deck.cards)} cards,"
                        f" needs {MIN_TOPIC_CARDS}",
                    )
                )
            subtopic_tags = [slugify(subtopic) for subtopic in topic.subtopics]
            for card in deck.cards:
                if subtopic_tags and not set(subtopic_tags) & set(card.tags):
                    findings.append(
                        _error(
                            deck.path,
                            card.line,
                            f"card '{card.key}' has no subtopic tag"
                            f" (one of: {', '.join(subtopic_tags)})",
                        )
                    )
            for subtopic in topic.subtopics:
                tag = slugify(subtopic)
                if tags[tag] < MIN_SUBTOPIC_CARDS:
                    findings.append(
                        _error(
                            deck.path,
                            1,
                            f"subtopic '{tag}' has {tags[tag]} cards, needs {MIN_SUBTOPIC_CARDS}",
                        )
                    )
    return findings
