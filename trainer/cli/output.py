"""Where the commands' output meets the terminal: every character passes :func:`visible`.

``echo`` is ``click.echo`` for lines of plain text; ``console`` is the rich console of the
screens; ``document`` writes a report (made visible on a terminal only). They show control
characters, escape sequences and bidirectional overrides from card text, deck, topic and
file names as visible placeholders, and rich markup in such text is never read as markup (a
deck named ``[bold]x`` prints as written). The screens also pass names through
:func:`visible` before laying lines out, so placeholders take their place in the column
widths; the console's own check catches whatever text reaches it another way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from trainer.errors import TrainerError
from trainer.visible import visible

if TYPE_CHECKING:
    from rich.console import Console


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """``text`` on stdout (stderr when ``err``), made :func:`visible`."""
    click.echo(visible(text), err=err, nl=nl)


def document(text: str) -> None:
    """A rendered document (a report) on stdout, as rendered. On a terminal its characters
    pass :func:`visible` as every screen's do; to a file or pipe it is written exactly, each
    format having escaped what it holds its own way (HTML entities, CSV quoting, JSON
    escapes), so a CSV keeps its ``\\r\\n`` and a name its characters (``click.echo`` would
    drop the escape sequences it recognises)."""
    sys.stdout.write(visible(text) if sys.stdout.isatty() else text)
    sys.stdout.flush()


def console() -> Console:
    """A rich console on stdout (plain text when stdout is not a terminal) that reads no
    markup and draws no control character, escape sequence or bidirectional override from
    the text it prints; its own styles and cursor moves are untouched."""
    from rich.console import Console
    from rich.segment import Segment

    class VisibleConsole(Console):
        def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
            for segment in super().render(renderable, options):
                if segment.control:
                    yield segment
                else:
                    yield Segment(visible(segment.text), segment.style)

    return VisibleConsole(highlight=False, markup=False)


def edit_in_editor(text: str) -> str | None:
    """``text`` opened in the learner's editor (``$VISUAL``, else ``$EDITOR``, else the one
    click picks: sensible-editor, vim, nano, else vi) as a ``.toml`` file: what they saved, or
    None when they did not save it or the editor deleted it.

    Raises :class:`TrainerError` naming the editor when it cannot be started or exits with
    an error (nothing was saved then).
    """
    from click._termui_impl import Editor  # click.edit's own, to name the editor it runs

    editor = Editor(require_save=True, extension=".toml")
    name = editor.get_editor()
    try:
        try:
            return editor.edit(text)
        except FileNotFoundError as exc:  # the editor deleted the file: nothing saved
            if isinstance(exc.__context__, click.ClickException):
                raise exc.__context__ from None
            return None
    except click.ClickException as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):
            message = f"editor {name!r}: cannot start it: {cause.strerror or cause}; set $VISUAL"
            raise TrainerError(message + " or $EDITOR to an editor that works") from None
        raise TrainerError(f"editor {name!r} exited with an error; nothing saved") from None
