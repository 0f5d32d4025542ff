"""The card search language (docs/searching.md): a query's text into a tree of terms, and back.

Pure: no database, no clock. :func:`parse` reads a query into a :data:`Node` tree or raises
one :class:`SearchError` naming the character position of the first fault; :func:`render`
writes a tree back as query text that parses to the same tree. What each term matches is
:mod:`trainer.study.search`'s.

The grammar follows Anki's search bar (manual, "Searching"): terms separated by white space are
joined by AND, ``or`` between terms joins them by OR (AND binds tighter: ``a b or c`` is
``(a AND b) OR c``, as in SQL, where Anki writes its searches), ``and`` may be written out,
``-`` before a term negates it, parentheses group. Double quotes keep white space, parentheses,
``-`` and the words ``or``/``and`` literal (``"or"``, ``deck:"My deck"``, ``"deck:My deck"``); a
backslash makes the next character literal (``\\"``, ``\\\\``, ``\\:``, ``\\(``, ``\\-``). A term
``NAME:VALUE`` is a search of NAME when NAME is one of :data:`FIELDS`, ``is``, ``prop``,
``rated`` or ``cid`` (ignoring case) and its colon is not escaped; any other term is free text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from trainer.errors import UsageError
from trainer.store.lookup import LARGEST_ID

#: Searches by name: the deck (with its subdecks), the roadmap topic and section, a tag.
FIELDS = ("deck", "topic", "section", "tag")
#: The ``is:`` searches, in the order the docs list them.
STATES = ("new", "learning", "review", "due", "suspended", "buried", "leech", "edited")
#: Anki's names of states that :data:`STATES` spells out: ``is:learn`` is ``is:learning``.
STATE_ALIASES = {"learn": "learning"}
#: The ``prop:`` names: stability (days), difficulty (1-10), retrievability now (0-1), lapses,
#: reviews, days until due (review cards; negative when overdue).
PROPERTIES = ("stability", "difficulty", "r", "lapses", "reps", "due")
#: Comparisons of ``prop:``, longest first (so ``<=`` is not read as ``<``).
OPERATORS = ("<=", ">=", "!=", "<", ">", "=")
#: The most days ``rated:`` takes: Anki's (a 32-bit unsigned count); days before the first
#: calendar day count from it.
MOST_RATED_DAYS = 2**32 - 1
#: Anki's wildcards in free text, ``deck:`` and ``tag:``: ``*`` any run of characters (none
#: too), ``_`` one character; ``\\*``, ``\\_`` and ``\\\\`` stand for the characters themselves.
WILDCARDS = "*_"
#: How deep parentheses and ``-`` may nest (``-(-(a b))`` is 3 deep). Deeper queries are
#: refused: they would exhaust Python's recursion (1000 frames) while being read, or SQLite's
#: parser stack (100 entries) once a term's SQL nests in them, from about 34 levels.
MOST_NESTING = 20

Operator = Literal["<=", ">=", "!=", "<", ">", "="]


class SearchError(UsageError):
    """A query that cannot be read: one line naming the character position (1-based) of the
    fault and what is wrong there."""

    def __init__(self, position: int, message: str) -> None:
        self.position = position
        super().__init__(f"bad search at character {position}: {message}")


@dataclass(frozen=True)
class Text:
    """Free text: cards whose front or back contains ``text`` (ignoring case), a pattern of
    :data:`WILDCARDS` where a backslash comes only before ``*``, ``_`` or a backslash."""

    text: str


@dataclass(frozen=True)
class Field:
    """``deck:``, ``topic:``, ``section:`` or ``tag:`` with the name searched for, written
    as :class:`Text`'s ``text`` (wildcards count in ``deck:`` and ``tag:``)."""

    name: str
    value: str


@dataclass(frozen=True)
class Is:
    """``is:STATE`` for one of :data:`STATES`."""

    state: str


@dataclass(frozen=True)
class Prop:
    """``prop:NAMEOPVALUE``: one of :data:`PROPERTIES` compared with a finite number."""

    name: str
    operator: Operator
    value: float


@dataclass(frozen=True)
class Rated:
    """``rated:DAYS`` (rated today or in the ``days - 1`` learner days before it), or
    ``rated:DAYS:RATING`` (with that rating, 1 Again to 4 Easy), as Anki's ``rated:``."""

    days: int
    rating: int | None = None


@dataclass(frozen=True)
class CardIds:
    """``cid:ID,ID,...``: the cards with these ids."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class Not:
    """``-TERM``: the cards ``term`` does not match."""

    term: Node


@dataclass(frozen=True)
class And:
    """Terms side by side (or joined by ``and``): cards every term matches. No terms: every
    card (the empty query)."""

    terms: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Terms joined by ``or``: cards any of them matches."""

    terms: tuple[Node, ...]


Node = Text | Field | Is | Prop | Rated | CardIds | Not | And | Or

_KEYWORD = re.compile(r"(?i)(deck|topic|section|tag|is|prop|rated|cid)")
_PROP = re.compile(r"(?i)([a-z]+)(<=|>=|!=|<|>|=)(.*)", re.DOTALL)
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_RATED = re.compile(r"([0-9]+)(?::([0-9]+))?")
_IDS = re.compile(r"[0-9]+(,[0-9]+)*")


@dataclass(frozen=True)
class _Token:
    """A token: ``kind`` is ``(``, ``)``, ``-``, ``or``, ``and`` or ``word``; ``text`` a word's
    characters with quotes and escapes resolved; ``colon`` the index in ``text`` of its first
    colon that was not escaped (-1: none); ``start`` its 1-based position in the query."""

    kind: str
    text: str
    colon: int
    start: int


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, -1, i + 1))
            i += 1
        elif char == "-" and (i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")"):
            tokens.append(_Token("-", char, -1, i + 1))
            i += 1
        elif char == "-":
            raise SearchError(i + 1, "'-' needs a term right after it, e.g. -tag:easy")
        else:
            token, i = _word(query, i)
            tokens.append(token)
    return tokens


def _word(query: str, start: int) -> tuple[_Token, int]:
    """The word starting at ``start`` and the index after it."""
    chars: list[str] = []
    colon = -1
    plain = True  # no quote or escape in it: only then can it be ``or``/``and``
    quote_start: int | None = None
    i, n = start, len(query)
    while i < n:
        char = query[i]
        if quote_start is None and (char.isspace() or char in "()"):
            break
        if char == "\\":
            if i + 1 == n:
                raise SearchError(i + 1, "'\\' at the end: write '\\\\' for a backslash")
            # the wildcards' escapes stay in the text: \* and \_ are the characters, \\ a backslash
            chars.append(query[i : i + 2] if query[i + 1] in WILDCARDS + "\\" else query[i + 1])
            plain = False
            i += 2
            continue
        if char == '"':
            plain = False
            quote_start = i if quote_start is None else None
        else:
            if char == ":" and colon < 0:
                colon = sum(map(len, chars))
            chars.append(char)
        i += 1
    if quote_start is not None:
        raise SearchError(quote_start + 1, 'a quote is not closed: add a " after the text')
    text = "".join(chars)
    if not text:
        raise SearchError(start + 1, '"" searches for nothing: put text between the quotes')
    kind = text.lower() if plain and text.lower() in ("or", "and") else "word"
    return _Token(kind, text, colon, start + 1), i


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokens(query)
        self.at = 0
        self.end = len(query) + 1
        self.depth = 0  # the ( and - open around the term being read

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def where(self) -> int:
        token = self.peek()
        return token.start if token else self.end

    def either(self) -> Node:
        terms = [self.both()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.at += 1
            terms.append(self.both())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def both(self) -> Node:
        terms = [self.unary()]
        while (token := self.peek()) is not None and token.kind not in ("or", ")"):
            if token.kind == "and":
                self.at += 1
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise SearchError(self.end, "the query ends where a term should follow")
        self.at += 1
        if token.kind in ("-", "(") and self.depth == MOST_NESTING:
            raise SearchError(
                token.start, f"'(' and '-' nest deeper than {MOST_NESTING} here: simplify the query"
            )
        if token.kind == "-":
            self.depth += 1
            negated = Not(self.unary())
            self.depth -= 1
            return negated
        if token.kind == "(":
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise SearchError(inner.start, "'()' holds no term")
            self.depth += 1
            node = self.either()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise SearchError(token.start, "'(' is not closed: add a ')'")
            self.at += 1
            return node
        if token.kind == ")":
            raise SearchError(token.start, "')' closes no '('")
        if token.kind in ("or", "and"):
            raise SearchError(
                token.start,
                f"'{token.text}' needs a term on each side (\"{token.text}\" finds the word)",
            )
        return _term(token)


def parse(query: str) -> Node:
    """The tree of ``query`` (see the module docstring); the empty query is ``And(())``.

    Raises :class:`SearchError` for an unclosed quote or parenthesis, a stray ``)``, ``-``,
    ``or`` or ``and`` without a term, a trailing backslash, empty quotes, and a ``NAME:VALUE``
    term whose value NAME does not take.
    """
    parser = _Parser(query)
    if parser.peek() is None:
        return And(())
    node = parser.either()
    token = parser.peek()
    if token is not None:  # only a ')' stops both() and either() before the end
        raise SearchError(token.start, "')' closes no '('")
    return node


def _term(token: _Token) -> Node:
    """A word token as a term: a ``NAME:VALUE`` search or free text."""
    name = token.text[: token.colon] if token.colon > 0 else ""
    if not _KEYWORD.fullmatch(name):
        return Text(token.text)
    key, value = name.lower(), token.text[token.colon + 1 :]
    at = token.start

    def fault(message: str) -> SearchError:
        return SearchError(at, f"{token.text!r}: {message}")

    if not value:
        raise fault(f"{key}: needs a value after the colon")
    if key in FIELDS:
        return Field(key, value)
    if key == "is":
        state = STATE_ALIASES.get(value.lower(), value.lower())
        if state not in STATES:
            raise fault(f"is: takes {_listed(STATES)}")
        return Is(state)
    if key == "prop":
        return _prop(value, fault)
    if key == "rated":
        rated = _RATED.fullmatch(value)
        if rated is None or not 1 <= int(rated[1]) <= MOST_RATED_DAYS:
            raise fault(
                f"rated: takes a number of days from 1 to {MOST_RATED_DAYS}, e.g. rated:7 or"
                " rated:7:1"
            )
        if rated[2] is not None and not 1 <= int(rated[2]) <= 4:
            raise fault("the rating after rated:DAYS: is 1 (Again), 2, 3 or 4 (Easy)")
        return Rated(int(rated[1]), None if rated[2] is None else int(rated[2]))
    if not _IDS.fullmatch(value):
        raise fault("cid: takes card ids separated by commas, e.g. cid:12,15")
    ids = tuple(int(part) for part in value.split(","))
    if max(ids) > LARGEST_ID:
        raise fault(f"card ids go up to {LARGEST_ID}")
    return CardIds(ids)


def _prop(value: str, fault: Callable[[str], SearchError]) -> Prop:
    """``prop:`` with its ``value`` (``stability>30``)."""
    found = _PROP.fullmatch(value)
    if found is None or found[1].lower() not in PROPERTIES:
        raise fault(f"prop: takes {_listed(PROPERTIES)} with < <= > >= = or !=, e.g. prop:r<0.8")
    number = found[3]
    if not _NUMBER.fullmatch(number) or not math.isfinite(float(number)):
        raise fault(f"{number!r} is not a number")
    operator: Operator = found[2]  # type: ignore[assignment]  # the pattern allows only these
    return Prop(found[1].lower(), operator, float(number))


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


def render(node: Node) -> str:
    """Query text of ``node`` that :func:`parse` reads back as ``node``: free text and values
    quoted (with ``\\`` before ``"`` and, in free text, ``:``; wildcard escapes kept) where
    they hold white space or characters the grammar reads, groups parenthesised where the tree
    needs it."""
    if isinstance(node, Text):
        if _SAFE_WORD.fullmatch(node.text) and node.text.lower() not in ("or", "and"):
            return node.text
        return '"' + re.sub(r'([":])', r"\\\1", node.text) + '"'
    if isinstance(node, Field):
        if _SAFE_VALUE.fullmatch(node.value):
            return f"{node.name}:{node.value}"
        return f'{node.name}:"' + node.value.replace('"', '\\"') + '"'
    if isinstance(node, Is):
        return f"is:{node.state}"
    if isinstance(node, Prop):
        number = format(Decimal(repr(node.value)), "f")
        return f"prop:{node.name}{node.operator}{number}"
    if isinstance(node, Rated):
        return f"rated:{node.days}" + ("" if node.rating is None else f":{node.rating}")
    if isinstance(node, CardIds):
        return "cid:" + ",".join(str(card_id) for card_id in node.ids)
    if isinstance(node, Not):
        inner = render(node.term)
        return f"-({inner})" if isinstance(node.term, And | Or) else f"-{inner}"
    if isinstance(node, And):
        return " ".join(
            f"({render(term)})" if isinstance(term, And | Or) else render(term)
            for term in node.terms
        )
    return " or ".join(
        f"({render(term)})" if isinstance(term, Or) else render(term) for term in node.terms
    )


#: Free text and values written without quotes: no white space, quote, backslash or
#: parenthesis; free text also no colon and no leading ``-``.
_SAFE_VALUE = re.compile(r'[^\s"\\()]+')
_SAFE_WORD = re.compile(r'[^\s"\\():-][^\s"\\():]*')
