"""HTML fields to card text: what the review shows for Anki's and spreadsheets' HTML."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from trainer.importers.html_text import (
    _plain_lines,
    escape_markdown,
    html_to_card_text,
    html_to_plain,
    media_token,
    plain_to_card_text,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain words", "plain words"),
        ("Use the &lt;div&gt; element", "Use the \\<div\\> element"),
        ("one<br>two", "one\\\ntwo"),
        ("<div>one</div><div>two</div><div><br></div><div>four</div>", "one\\\ntwo\n\nfour"),
        ("<p>first</p><p>second</p>", "first\n\nsecond"),
        ("<b>bold </b>and <i>italic</i>", "**bold** and *italic*"),
        ("<b> </b>x", "x"),
        ("2 * 3 * 4", "2 \\* 3 \\* 4"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("snake_case &amp; co", "snake\\_case \\& co"),
        ("a &nbsp;&nbsp; b", "a b"),
        ("<code>x = [1]</code> done", "`x = [1]` done"),
        ("<code>a`b</code>", "``a`b``"),
        (
            '<pre><code class="language-python">def f():\n    return 1</code></pre>after',
            "```python\ndef f():\n    return 1\n```\n\nafter",
        ),
        ("<ul><li>a</li><li>b <b>c</b></li></ul>text", "- a\n- b **c**\n\ntext"),
        ("<ol><li>a</li><li>b</li></ol>", "1. a\n2. b"),
        ('see <img src="list.png"> here', "see \\[image: list.png\\] here"),
        ("[sound:word.mp3] hear", "\\[sound: word.mp3\\] hear"),
        ('<a href="https://docs.python.org">docs</a>', "docs (https://docs.python.org)"),
        ("<script>alert(1)</script><style>b{}</style>kept", "kept"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a \\| b"),
        ("x <![if !supportLists]>y<![endif]> z", "x y z"),
        ("<hr>", "---"),
    ],
)
def test_fields_become_markdown_that_reads_as_the_field(html: str, text: str) -> None:
    assert html_to_card_text(html) == text


def test_the_review_shows_the_text_as_written() -> None:
    console = Console(width=60, record=True, color_system=None)
    console.print(Markdown(html_to_card_text("Use &lt;div&gt;, not 2 * 3 * 4<br>- really")))
    shown = [line.rstrip() for line in console.export_text().splitlines()]
    assert shown == ["Use <div>, not 2 * 3 * 4", "- really"]


def test_plain_text_of_a_field_is_what_a_typed_answer_is_compared_with() -> None:
    assert html_to_plain("<b>x_y</b> &lt;div&gt;<br>2 * 3<script>no</script>") == "x_y <div> 2 * 3"


def test_media_tokens_are_escaped_like_the_text_around_them() -> None:
    assert media_token("image", "a_b.png") == "\\[image: a\\_b.png\\]"
    assert escape_markdown("[image: a_b.png]") == media_token("image", "a_b.png")


@given(st.text())
def test_any_field_converts_without_an_error(html: str) -> None:
    assert isinstance(html_to_card_text(html), str)
    assert isinstance(html_to_plain(html), str)


@given(st.text(alphabet=st.characters(blacklist_characters="<&[")))
def test_text_without_markup_shows_exactly_its_words(text: str) -> None:
    html_space = re.compile(r"[ \t\n\r\f\v\xa0]+")  # HTML's white space, and no-break space
    assert html_to_plain(text) == html_space.sub(" ", text).strip()


#: Field text as spreadsheets hold it: words, spaces and numbers, and at most one character
#: that makes the field need escaping or collapsing; or any text at all.
WORDS = st.lists(st.sampled_from(["word", " ", "2", "10", ".", ")"])).map("".join)
FIELD_TEXT = (
    st.tuples(WORDS, st.sampled_from(["", *"#+-=\\`*_[]<>|~&\n\r\t\xa0\u3000"]), WORDS).map("".join)
    | st.text()
)


@settings(max_examples=1000)
@given(FIELD_TEXT)
def test_a_field_left_as_it_is_reads_as_the_full_conversion_gives_it(text: str) -> None:
    assert plain_to_card_text(text) == _plain_lines(text)


PYGMENTS_TABLE = (
    '<table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre>'
    '<span class="normal">1</span>\n<span class="normal">2</span></pre></div></td>'
    '<td class="code"><div class="highlight"><pre><span></span><span class="k">def</span>'
    ' <span class="nf">f</span>():\n    <span class="k">return</span> 1\n</pre></div>'
    "</td></tr></table>"
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<ol start="3"><li>third</li><li>fourth</li></ol>', "3. third\n4. fourth"),
        (
            '<ol><li>one</li><li value="7">seven</li><li>eight</li></ol>',
            "1. one\n7. seven\n8. eight",
        ),
        ('<ol start="x"><li>one</li></ol>', "1. one"),
        ('<ol start="0"><li>zero</li><li>one</li></ol>', "0. zero\n1. one"),
        ('<ol><li value="0">zero</li></ol><ul><li>dot</li></ul>', "0. zero\n- dot"),
        ("10<sup>6</sup> bytes, x<sup>-1</sup>, 2<sup>n+1</sup>", "10⁶ bytes, x⁻¹, 2ⁿ⁺¹"),
        ("H<sub>2</sub>O and v<sub>max</sub>", "H₂O and vₘₐₓ"),
        ("e<sup>iπ</sup> and x<sub>Q</sub>", "e^(iπ) and x\\_(Q)"),
        ("<p>Note<sup><a href='#1'>[1]</a></sup></p>", "Note^(\\[1\\])"),
        ("<code>x = 1<br>y = 2</code>", "```\nx = 1\ny = 2\n```"),
        ("<pre>a<br>b</pre>", "```\na\nb\n```"),
        ("<pre><code>a<br/>  b</code></pre>", "```\na\n  b\n```"),
        (PYGMENTS_TABLE, "```\ndef f():\n    return 1\n```"),
        (
            '<pre><span class="linenos">1</span>x = 1\n<span class="linenos">2</span>y = 2</pre>',
            "```\nx = 1\ny = 2\n```",
        ),
        (r"Euler: \(e^{i\pi} + 1 = 0\)", r"Euler: `e^{i\pi} + 1 = 0`"),
        ("[$]a &lt; b[/$] holds", "`a < b` holds"),
        (r"Sum \[\sum_i x_i\] done", "Sum\\\n`\\sum_i x_i`\\\ndone"),
        ("[$$]x^2[/$$]", "`x^2`"),
        ("[latex]\\begin{align}x<br>y\\end{align}[/latex]", "`\\begin{align}x y\\end{align}`"),
        (r"a lone \( stays", r"a lone \\( stays"),
    ],
)
def test_lists_code_tables_and_math_read_as_they_showed(html: str, text: str) -> None:
    assert html_to_card_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('Capital of France?<div style="display:none">Paris</div>', "Capital of France?"),
        ('Spain?<span style="color: red; visibility : hidden">Madrid</span> ok', "Spain? ok"),
        ('<p style="DISPLAY: NONE !important">x<b>y</b></p>z', "z"),
        ("<div hidden><div>nested</div>still hidden</div>shown", "shown"),
        ('<span style="display: inline">kept</span>', "kept"),
        ('<span style="visibility: visible">kept</span>', "kept"),
    ],
)
def test_hidden_elements_are_left_out_with_their_content(html: str, text: str) -> None:
    assert html_to_card_text(html) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>Note:</b>text", "**Note**:text"),
        ("<b>Note:</b> text", "**Note:** text"),
        ("plain <i>(aside)</i>text", "plain *(aside*)text"),
        ("x<b>(a)</b> y", "x(**a)** y"),
        ("a<b>!</b>x", "a!x"),
        ("<i><b>x</b></i>", "***x***"),
    ],
)
def test_emphasis_marks_move_past_punctuation_a_letter_touches(html: str, text: str) -> None:
    assert html_to_card_text(html) == text


SIDE = st.text(alphabet="aZ .,:!?()[]*は。「」-_`", max_size=4)


@given(
    SIDE,
    st.text(alphabet="aZ .,:!?()[]は。「」-_", min_size=1, max_size=6),
    SIDE,
    st.sampled_from(["b", "i", "strong", "em"]),
    st.sampled_from(["", "<b>q</b>", "<i>r.</i>", "<b>:</b>", "<i>Z</i>", "<i>a</i><b>.x</b>"]),
)
def test_emphasis_shows_no_asterisk_of_its_own(
    before: str, inner: str, after: str, tag: str, next_to: str
) -> None:
    # what the review shows (rich's Markdown) is the field's text: no "*" from the marks
    html = f"w{before}<{tag}>{inner}</{tag}>{next_to}{after}z"
    console = Console(width=300, record=True, color_system=None)
    console.print(Markdown(html_to_card_text(html)))
    shown = " ".join(console.export_text().split())
    assert shown == " ".join(html_to_plain(html).split())
