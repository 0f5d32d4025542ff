"""Editing cards: `trainer edit CARD` opens the card as a [[card]] table in $EDITOR (here a
script that rewrites the file with sed, or empties it); the learner's text is their own, kept
through deck updates, found by is:edited, taken back by --revert; `e` in the review, undone by
`u`; the parser's snippet reading."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker
from test_terminal import _screen

from conftest import sql
from trainer.cli.main import cli
from trainer.content.builtin_sync import upsert_cards
from trainer.content.parser import CardSpec, card_source, parse_card_table
from trainer.errors import DeckError
from trainer.scheduling.days import DayClock
from trainer.store.models import Card, Deck
from trainer.store.resources import DECKS_DIR

NOW = "2026-11-29T10:00:00+00:00"
FRONT = "Why is `list.append` O(1) *amortised* rather than O(1) every time in CPython?"


@pytest.fixture
def editor(tmp_path: Path) -> Path:
    """An editor that runs ``sed -i "$EDIT_SCRIPT"`` on the file it is given."""
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\nsed -i "$EDIT_SCRIPT" "$1"\n')
    script.chmod(0o755)
    return script


def run(
    *args: str,
    editor: Path | None = None,
    script: str = "",
    learner: str = "tester",
    input: str | None = None,
) -> tuple[int, str, str]:
    env = {"TRAINER_NOW": NOW, "EDIT_SCRIPT": script, "TRAINER_LEARNER": learner}
    env |= {"EDITOR": str(editor), "VISUAL": str(editor)} if editor else {}
    result = CliRunner().invoke(cli, list(args), env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


def card(query: str, learner: str = "tester") -> dict[str, object]:
    code, out, _ = run("cards", query, "--json", learner=learner)
    assert code == 0
    found: list[dict[str, object]] = json.loads(out)
    assert len(found) == 1
    return found[0]


def append_card() -> int:
    return int(str(card(f'"{FRONT}"')["id"]))


def test_an_edit_changes_the_learners_text_and_keeps_the_cards_history(
    editor: Path, database: str
) -> None:
    first = append_card()
    assert run("review", "--query", f"cid:{first}", input=" 3q")[0] == 0
    before = card(f"cid:{first}")
    assert before["reps"] == 1
    logs = sql(database, "SELECT count(*) FROM review_log WHERE card_id = :c", c=first)
    script = 's/^front = "Why is .list.append.*/front = "How does `list.append` stay O(1)?"/'
    assert run("edit", str(first), editor=editor, script=script) == (
        0,
        f"Edited card {first}.\n",
        "",
    )
    after = card(f"cid:{first}")
    assert after["front"] == "How does `list.append` stay O(1)?" and after["edited"] is True
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"front", "edited"}  # the id, memory state and the rest are kept
    assert sql(database, "SELECT count(*) FROM review_log WHERE card_id = :c", c=first) == logs
    assert card("is:edited")["id"] == first and card('"stay O(1)"')["id"] == first
    # another learner on the same database sees the shipped text
    assert card(f"cid:{first}", learner="bob")["front"] == FRONT
    assert run("cards", "is:edited", learner="bob")[1] == "No cards match.\n"
    # the next edit starts from the learner's own text
    assert run("edit", str(first), editor=Path("/bin/true")) == (0, "No change.\n", "")
    (source,) = sql(database, "SELECT source FROM card_edit")[0]
    assert 'front = "How does `list.append` stay O(1)?"' in source.splitlines()


def test_saving_nothing_or_an_empty_file_changes_nothing(editor: Path, tmp_path: Path) -> None:
    first = append_card()
    assert run("edit", str(first), editor=Path("/bin/true")) == (0, "No change.\n", "")
    assert run("edit", str(first), editor=editor, script="s/^#.*$/# a comment/") == (
        0,
        "No change.\n",
        "",
    )
    assert run("edit", str(first), editor=editor, script="d") == (0, "No change.\n", "")
    assert run("cards", "is:edited")[1] == "No cards match.\n"


def test_an_invalid_edit_names_its_line_and_changes_nothing(editor: Path) -> None:
    first = append_card()
    assert run("edit", str(first), editor=editor, script='s/^front = .*/front = ""/') == (
        1,
        "",
        f"Error: edit of card {first}, line 5: 'front' must be non-empty text\n",
    )
    assert run("edit", str(first), editor=editor, script='s/^front = .*/id = "x"/') == (
        1,
        "",
        f"Error: edit of card {first}, line 2: basic card needs 'front' (and 1 more problem)\n",
    )
    assert run("edit", str(first), editor=editor, script="s/^tags = .*/tags = [/") == (
        1,
        "",
        f"Error: edit of card {first}, line 4: Invalid value (column 1)\n",
    )
    assert card(f"cid:{first}")["front"] == FRONT
    assert run("cards", "is:edited")[1] == "No cards match.\n"


@pytest.fixture
def takes(tmp_path: Path) -> Path:
    """An editor that keeps what it opens the Nth time as opened-N in its folder, then runs
    ``sed -i "$EDIT_N"`` on the file (nothing: not saved when $EDIT_N is unset)."""
    script = tmp_path / "takes.sh"
    script.write_text(
        '#!/bin/sh\nd=$(dirname "$0")\nn=$(($(cat "$d/calls" 2>/dev/null || echo 0) + 1))\n'
        'echo $n > "$d/calls"\ncp "$1" "$d/opened-$n"\n'
        'eval "script=\\${EDIT_$n:-}"\n[ -z "$script" ] || sed -i "$script" "$1"\n'
    )
    script.chmod(0o755)
    return script


def taking(takes: Path, *scripts: str) -> dict[str, str]:
    """The environment to run ``takes`` with ``scripts`` (its sed script of each call)."""
    env = {"TRAINER_NOW": NOW, "EDITOR": str(takes)}
    return env | {f"EDIT_{n}": script for n, script in enumerate(scripts, start=1)}


def test_a_refused_edit_on_a_terminal_is_offered_again_with_the_error_on_top(
    takes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("click.testing._NamedTextIOWrapper.isatty", lambda self: True)
    first = append_card()
    env = taking(
        takes,
        's/^front = .*/front = ""/',
        "s/^tags = .*/tags = [/",
        's/^front = ""/front = "Fixed?"/; s/^tags = \\[$/tags = ["fixed"]/',
    )
    result = CliRunner().invoke(cli, ["edit", str(first)], env=env, input="\ny\n")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "Edit again? [Y/n]: \nEdit again? [Y/n]: y\nEdited card 1.\n".replace("1", str(first)),
        f"Error: edit of card {first}, line 5: 'front' must be non-empty text\n"
        f"Error: edit of card {first}, line 5: Invalid value (column 1)\n",
    )
    opened = [(takes.parent / f"opened-{n}").read_text() for n in (1, 2, 3)]
    refused = opened[0].replace(f'front = "{FRONT}"', 'front = ""')
    assert opened[1] == "# Not saved: line 6: 'front' must be non-empty text\n" + refused
    assert opened[2] == "# Not saved: line 5: Invalid value (column 1)\n" + refused.replace(
        'tags = ["arrays"]', "tags = ["
    )
    assert (card(f"cid:{first}")["front"], card(f"cid:{first}")["tags"]) == ("Fixed?", ["fixed"])
    # the comment went with the refusal: the saved text is the table as fixed
    env = taking(takes, "", "", "", "", 's/^front = .*/front = ""/')
    assert CliRunner().invoke(cli, ["edit", str(first)], env=env).stdout == "No change.\n"
    assert (takes.parent / "opened-4").read_text().startswith(f"# Card {first} (")
    assert "Not saved" not in (takes.parent / "opened-4").read_text()
    result = CliRunner().invoke(cli, ["edit", str(first)], env=env, input="n\n")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "Edit again? [Y/n]: n\n",
        f"Error: edit of card {first}, line 5: 'front' must be non-empty text\n",
    )
    assert card(f"cid:{first}")["front"] == "Fixed?"


def test_edit_needs_a_search_that_finds_one_card() -> None:
    assert run("edit", "topic:data-structures", "is:new") == (
        1,
        "",
        "Error: 34 cards match 'topic:data-structures is:new': narrow the search to one card"
        " (trainer cards lists them)\n",
    )
    assert run("edit", "tag:no-such-tag") == (1, "", "Error: no card matches 'tag:no-such-tag'\n")
    assert run("edit", "999999") == (
        1,
        "",
        "Error: card 999999: no such card (ids are in 'trainer cards')\n",
    )


def test_revert_goes_back_to_the_shipped_text_which_an_update_changes_under_the_edit(
    editor: Path, loaded: sessionmaker[Session]
) -> None:
    first = append_card()
    script = "s/O(1) every time/constant time/"
    assert run("edit", str(first), editor=editor, script=script)[1] == f"Edited card {first}.\n"
    edited = FRONT.replace("O(1) every time", "constant time")
    with loaded.begin() as db:
        deck = db.query(Deck).filter_by(slug="data-structures").one()
        shipped = [
            CardSpec(c.key, c.kind, c.front, c.back, tuple(c.tags), c.docs_url, tuple(c.accepted))
            for c in sorted(deck_cards(db, deck.id), key=lambda c: c.position)
        ]
        updated = [
            spec if spec.front != FRONT else replace(spec, front="New text?") for spec in shipped
        ]
        upsert_cards(db, deck, updated)
    assert card(f"cid:{first}")["front"] == edited  # the update left the learner's text
    assert card(f"cid:{first}", learner="bob")["front"] == "New text?"
    assert run("edit", str(first), "--revert") == (
        0,
        f"Reverted card {first} to the shipped text.\n",
        "",
    )
    assert card(f"cid:{first}")["front"] == "New text?"
    assert card(f"cid:{first}")["edited"] is False
    assert run("edit", str(first), "--revert") == (
        1,
        "",
        f"Error: card {first} has no edit of yours to revert\n",
    )


def deck_cards(db: Session, deck_id: int) -> list[Card]:
    return list(db.query(Card).filter_by(deck_id=deck_id, active=True))


def test_a_cloze_edit_changes_every_card_of_its_note_and_adds_none(editor: Path) -> None:
    code, out, _ = run("cards", '"binary min-heap"', "--json")
    c1, c2 = sorted(json.loads(out), key=lambda found: str(found["key"]))
    assert str(c1["key"]).endswith("#c1") and str(c2["key"]).endswith("#c2")
    script = "s/plain list/Python list/"
    assert run("edit", str(c2["id"]), editor=editor, script=script) == (
        0,
        f"Edited card {c2['id']} and 1 other card of its note.\n",
        "",
    )
    assert [card(f"cid:{c['id']}")["front"] for c in (c1, c2)] == [
        str(c["front"]).replace("plain list", "Python list") for c in (c1, c2)
    ]
    assert run("cards", "is:edited")[1].splitlines()[-1] == "2 cards"
    script = "s/index 0 (`heap\\[0\\]`)}}/&, {{c3::a new card}}/"
    code, out, err = run("edit", str(c2["id"]), editor=editor, script=script)
    note = str(c2["key"]).removesuffix("#c2")
    assert (code, err) == (
        1,
        f"Error: edit of card {c2['id']}, line 2: {note}#c3 would be a new card;"
        " an edit changes the cards there are\n",
    )
    for edited, dropped in ((c1, c2), (c2, c2), (c2, c1)):
        number = str(dropped["key"])[-1]
        script = f"s/{{{{c{number}::\\([^}}]*\\)}}}}/\\1/"  # its text stays, not as a deletion
        assert run("edit", str(edited["id"]), editor=editor, script=script) == (
            1,
            "",
            f"Error: edit of card {edited['id']}, line 2: the table no longer makes card"
            f" {dropped['id']} ({dropped['key']}); an edit changes the cards there are\n",
        )
    assert run("edit", str(c1["id"]), "--revert")[1] == (
        f"Reverted card {c1['id']} to the shipped text.\n"
    )
    assert run("cards", "is:edited")[1] == "No cards match.\n"


def test_an_imported_card_is_edited_from_its_text_as_a_table(editor: Path, tmp_path: Path) -> None:
    deck = tmp_path / "http.toml"
    deck.write_text(
        '[[card]]\nid = "created"\nkind = "typed"\nfront = "Status code of a new resource?"\n'
        'answer = "201"\naccept = ["201 Created"]\nback = "See RFC 9110."\n'
        '[[card]]\nid = "gaps"\nkind = "cloze"\ntext = "HTTP {{c1::GET}} is safe"\n'
        '[[card]]\nid = "short"\nfront = "Safe?"\nback = "Yes."\n'
    )
    assert run("import", str(deck))[0] == 0
    typed, cloze = card('deck:http "Status code"'), card("deck:http GET")
    seen = tmp_path / "seen.toml"  # sed's w command copies the text offered there
    assert run("edit", str(typed["id"]), editor=editor, script=f"w {seen}") == (
        0,
        "No change.\n",
        "",
    )
    assert seen.read_text().splitlines()[1:] == [
        "[[card]]",
        'kind = "typed"',
        'front = "Status code of a new resource?"',
        'answer = "201"',
        "accept = [",
        '    "201 Created",',
        "]",
        'back = "See RFC 9110."',
    ]
    script = 's/^answer = "201"/answer = "201 Created"/; s/    "201 Created",/    "201",/'
    assert run("edit", str(typed["id"]), editor=editor, script=script)[1] == (
        f"Edited card {typed['id']}.\n"
    )
    assert card(f"cid:{typed['id']}")["accepted"] == ["201 Created", "201"]
    assert run("edit", str(typed["id"]), "--revert")[1] == (
        f"Reverted card {typed['id']} to its deck's text.\n"
    )
    short = card("deck:http Safe?")  # a short table is still written under its [[card]] header
    assert run("edit", str(short["id"]), editor=editor, script=f"w {seen}")[1] == "No change.\n"
    assert seen.read_text().splitlines()[1:] == ["[[card]]", 'front = "Safe?"', 'back = "Yes."']
    assert run("edit", str(short["id"]), editor=editor, script="s/Yes/Yes, GET is/")[1] == (
        f"Edited card {short['id']}.\n"
    )
    assert card(f"cid:{short['id']}")["back"] == "Yes, GET is."
    # deleting the deck deletes the learner's edits of its cards with them
    assert run("decks", "delete", "http", "--yes")[0] == 0
    assert run("cards", "is:edited")[1] == "No cards match.\n"
    assert run("import", str(deck))[0] == 0
    cloze = card("deck:http GET")
    assert run("edit", str(cloze["id"]), editor=editor) == (
        1,
        "",
        f"Error: card {cloze['id']} is a cloze card whose deck file is not kept: change it in"
        " its file and import it again\n",
    )


def test_e_in_the_review_edits_the_card_shown_and_u_undoes_the_edit(editor: Path) -> None:
    first = append_card()
    env = {
        "TRAINER_NOW": NOW,
        "EDITOR": str(editor),
        "EDIT_SCRIPT": 's/^front = .*/front = "The new front?"/',
    }
    keys = "e u e 3q"  # edit, show the answer, undo the edit; edit again and rate
    result = CliRunner().invoke(cli, ["review", "--query", f"cid:{first}"], env=env, input=keys)
    out = result.stdout
    assert result.exit_code == 0
    assert "[space] show answer  [s] bury  [e] edit  [u] undo  [q] quit" in out
    shown = [
        line.strip() for line in out.splitlines() if "new front" in line or "amortised" in line
    ]
    assert shown == [
        "Why is list.append O(1) amortised rather than O(1) every time in CPython?",
        "The new front?",
        "Why is list.append O(1) amortised rather than O(1) every time in CPython?",
        "The new front?",
        "The new front?",  # rated Good: its learning step comes back in the session
    ]
    notices = [line for line in out.splitlines() if line.startswith(("Edited:", "Undone:"))]
    assert notices == [
        "Edited: your text of this card; u undoes the edit.",
        "Undone: this card is back as it was.",
        "Edited: your text of this card; u undoes the edit.",
    ]
    assert "Reviewed 1 card" in out
    assert card(f"cid:{first}")["front"] == "The new front?"
    assert card(f"cid:{first}")["reps"] == 1


def test_an_invalid_edit_in_the_review_is_one_line_and_the_card_stays(editor: Path) -> None:
    first = append_card()
    env = {"TRAINER_NOW": NOW, "EDITOR": str(editor), "EDIT_SCRIPT": "s/^front = .*/front = 1/"}
    result = CliRunner().invoke(cli, ["review", "--query", f"cid:{first}"], env=env, input="e q")
    assert f"Not saved: edit of card {first}, line 5: 'front' must be" in result.stdout
    assert run("cards", "is:edited")[1] == "No cards match.\n"


def test_the_next_e_on_a_card_reopens_the_text_the_review_could_not_save(takes: Path) -> None:
    first = append_card()
    env = taking(takes, "s/^front = .*/front = 1/", 's/^front = 1/front = "Fixed?"/')
    keys = "e e q"
    result = CliRunner().invoke(cli, ["review", "--query", f"cid:{first}"], env=env, input=keys)
    notices = [line for line in result.stdout.splitlines() if line.startswith(("Not", "Edited"))]
    assert notices == [
        f"Not saved: edit of card {first}, line 5: 'front' must be non-empty text",
        "Edited: your text of this card; u undoes the edit.",
    ]
    first_text, second_text = ((takes.parent / f"opened-{n}").read_text() for n in (1, 2))
    assert (
        second_text
        == "# Not saved: line 6: 'front' must be non-empty text\n"
        + first_text.replace(f'front = "{FRONT}"', "front = 1")
    )
    assert card(f"cid:{first}")["front"] == "Fixed?"


def test_nothing_to_undo_replaces_the_undone_notice_on_a_terminal(
    factory: sessionmaker[Session], clock: DayClock
) -> None:
    cards = [CardSpec("a", "basic", "First?", "A."), CardSpec("b", "basic", "Second?", "B.")]
    screen, out = _screen(factory, clock, " 3uuq", cards)
    screen.console = Console(file=out, width=80, height=24, force_terminal=True)
    screen.run()
    pages = out.getvalue().split("\x1b[2J")
    last = next(page for page in reversed(pages) if "Nothing to undo." in page)
    assert "First?" in last and "Undone:" not in last
    assert any("Undone: this card is back as it was." in page for page in pages)


def test_a_leech_of_one_lapse_says_lapse(factory: sessionmaker[Session], clock: DayClock) -> None:
    screen, _ = _screen(factory, clock, "")
    assert screen._leech_notice(7, 1).plain == (
        "Card 7 is a leech (1 lapse), suspended: trainer unsuspend 7 brings it back."
    )


# -- the parser's part -------------------------------------------------------------------------


def test_a_card_table_reads_as_a_deck_files_card_does() -> None:
    (spec,) = parse_card_table('[[card]]\nfront = "Q?"\nback = "A."\n', "edit")
    assert (spec.key, spec.kind, spec.front, spec.back, spec.line) == (
        "card",
        "basic",
        "Q?",
        "A.",
        1,
    )
    cards = parse_card_table('[[card]]\nkind = "cloze"\ntext = "{{c1::a}} {{c2::b}}"\n', "e")
    assert [c.key for c in cards] == ["card#c1", "card#c2"]
    with pytest.raises(DeckError) as raised:
        parse_card_table('topic = "x"\n[[card]]\nfront = "Q"\nback = "A"\n[[card]]\n', "e")
    assert [str(p) for p in raised.value.problems] == [
        "e:1: unknown key 'topic': an edit is one [[card]] table",
        "e:5: an edit is one [[card]] table",
    ]
    with pytest.raises(DeckError) as raised:
        parse_card_table('[[card]]\nid = "x"\nfront = "Q"\n', "e")
    assert [str(p) for p in raised.value.problems] == [
        "e:1: basic card needs 'back'",
        "e:2: leave 'id' out: an edit keeps the card's id",
    ]


def test_a_shipped_table_is_offered_as_written_without_id_and_covers() -> None:
    text = (
        'topic = "t"\n[[coverage]]\nid = "p"\npoint = "P"\n\n[[card]]\nid = "a"\n'
        'covers = [\n  "p",\n]\nfront = """\n[not a table]\n"""\nback = "A"  # kept\n\n'
        '[[card]]\nid = "b"\nfront = "Q"\nback = "A"\n'
    )
    assert (
        card_source(text, "a") == '[[card]]\nfront = """\n[not a table]\n"""\nback = "A"  # kept\n'
    )
    assert card_source(text, "b") == '[[card]]\nfront = "Q"\nback = "A"\n'
    assert card_source(text, "c") is None
    ending = '[[card]]\nid = "a"\nfront = "Q"\nback = """\nA\n# a heading\n"""\n'
    after = "# a note on a\n\n# ---- the next section\n\n"
    assert card_source(ending + after + '[[card]]\nid = "b"\n', "a") == (
        '[[card]]\nfront = "Q"\nback = """\nA\n# a heading\n"""\n'
    )
    assert card_source(ending.replace('\n"""\n', '"""\n') + after, "a") == (
        '[[card]]\nfront = "Q"\nback = """\nA\n# a heading"""\n'
    )


def test_no_shipped_table_ends_with_a_comment() -> None:
    for path in sorted(DECKS_DIR.glob("*/*.toml")):
        text = path.read_text(encoding="utf-8")
        for raw in tomllib.loads(text).get("card", []):
            table = card_source(text, raw["id"])
            assert table is not None
            assert not table.splitlines()[-1].startswith("#"), (path.name, raw["id"])


def test_an_editor_that_cannot_start_or_fails_is_named_and_nothing_changes(
    tmp_path: Path,
) -> None:
    first = append_card()
    missing = tmp_path / "no-such-editor"
    assert run("edit", str(first), editor=missing) == (
        1,
        "",
        f"Error: editor '{missing}': cannot start it: No such file or directory; set $VISUAL"
        " or $EDITOR to an editor that works\n",
    )
    failing = tmp_path / "failing.sh"
    failing.write_text('#!/bin/sh\necho \'front = "changed"\' >> "$1"\nexit 3\n')
    failing.chmod(0o755)
    assert run("edit", str(first), editor=failing) == (
        1,
        "",
        f"Error: editor '{failing}' exited with an error; nothing saved\n",
    )
    assert card(f"cid:{first}")["front"] == FRONT
    assert run("edit", str(first), editor=Path("/bin/rm")) == (0, "No change.\n", "")


def test_without_visual_or_editor_the_error_names_the_editor_click_runs(tmp_path: Path) -> None:
    first = append_card()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {"TRAINER_NOW": NOW, "VISUAL": None, "EDITOR": None, "PATH": str(bin_dir)}
    result = CliRunner().invoke(cli, ["edit", str(first)], env=env)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: editor 'vi': cannot start it: No such file or directory; set $VISUAL or $EDITOR"
        " to an editor that works\n",
    )
    (bin_dir / "nano").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "nano").chmod(0o755)
    result = CliRunner().invoke(cli, ["edit", str(first)], env=env)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: editor 'nano' exited with an error; nothing saved\n",
    )


def test_an_imported_cards_tags_in_any_script_survive_an_edit(editor: Path, tmp_path: Path) -> None:
    note = tmp_path / "tagged.md"
    note.write_text("---\ntags: [c++, C#, 数学/极限]\n---\nWhat is 2+2?::4\n")
    assert run("import", str(note))[0] == 0
    found = card("deck:tagged")
    assert found["tags"] == ["c++", "c#", "数学::极限"]
    assert run("edit", str(found["id"]), editor=editor, script="s/4/four/") == (
        0,
        f"Edited card {found['id']}.\n",
        "",
    )
    assert (card("tag:数学")["back"], card("tag:c#")["tags"]) == ("four", found["tags"])
