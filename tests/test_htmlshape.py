"""Sanitized HTML as kramdown (Jekyll's Markdown) reads it: the real kramdown, through Ruby,
converts post bodies and category titles, and nothing in them becomes Markdown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from aggregator.htmlshape import _MARKDOWN_SIGNS, bounded_depth, has_markdown_signs, kramdown_body
from aggregator.normalize import MAX_DEPTH, sanitize_html
from aggregator.publish import markdown_text

RUBY = shutil.which("ruby")

# Jekyll's own kramdown settings (Jekyll 4: input GFM, raw HTML blocks left alone).
_KRAMDOWN = r"""
require 'json'
require 'kramdown'
require 'kramdown-parser-gfm'
docs = JSON.parse(STDIN.read)
puts JSON.generate(docs.map { |d|
  Kramdown::Document.new(d, input: 'GFM', auto_ids: true, entity_output: 'as_char',
                         hard_wrap: false, smart_quotes: 'lsquo,rsquo,ldquo,rdquo').to_html
})
"""


def _kramdown_available() -> bool:
    if RUBY is None:
        return False
    probe = subprocess.run(
        [RUBY, "-e", "require 'kramdown'; require 'kramdown-parser-gfm'"], capture_output=True
    )
    return probe.returncode == 0


needs_kramdown = pytest.mark.skipif(
    not _kramdown_available(),
    reason="kramdown is missing (apt-get install jekyll brings it; .ci/run installs it)",
)


def ruby_json(script: str, documents: list[str]) -> list[Any]:
    """`script` run by Ruby on `documents` (a JSON array on its standard input); what it
    prints, read as JSON."""
    assert RUBY is not None
    proc = subprocess.run(
        [RUBY, "-e", script],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out: list[Any] = json.loads(proc.stdout)
    return out


def kramdown(documents: list[str], *, parse_block_html: bool = False) -> list[str]:
    """Each document converted by the real kramdown, in one Ruby process."""
    option = f"parse_block_html: {str(parse_block_html).lower()}"
    return ruby_json(
        _KRAMDOWN.replace("hard_wrap: false", f"hard_wrap: false, {option}"), documents
    )


ATTRIBUTION = '<p class="em_media">(Source: X)</p>'

BODIES = [
    pytest.param("plain text [x](javascript:alert(1))", id="bare-text-link"),
    pytest.param('*x*{: autofocus onfocus="alert(1)"}', id="bare-text-ial"),
    pytest.param("<p>a</p>[x](javascript:alert(1))<p>b</p>", id="text-after-block"),
    pytest.param('<p>a</p>\n{: onclick="alert(1)"}', id="ial-line-after-block"),
    pytest.param("<p>a</p>\n    <p>indented</p>", id="indented-block"),
    pytest.param("<p>a</p>\n\t<p>tabbed</p>", id="tabbed-block"),
    pytest.param('<a href="https://ex.org/">top link</a> text', id="span-at-top"),
    pytest.param('<img src="https://ex.org/i.png"> caption', id="image-at-top"),
    pytest.param("<p>[x](javascript:alert(1)) {::nomarkdown}</p>", id="markdown-inside-block"),
    pytest.param("<p>a</p>\n <p>b</p>\n", id="golden-shape"),
    pytest.param("<ul><li>one</li></ul>\n\n<p>two</p>", id="list-then-paragraph"),
    pytest.param("# heading\n\n- item\n\n> quote", id="markdown-blocks-as-text"),
    pytest.param("<pre>    code\n\n[x](javascript:1)</pre>", id="pre"),
    pytest.param("", id="empty"),
]


def _links_and_handlers(fragment: str) -> list[str]:
    found = []
    if not fragment.strip():
        return found
    for el in lxml_html.fragments_fromstring(fragment, no_leading_text=False):
        if isinstance(el, str):
            continue
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            for name, value in node.attrib.items():
                if name.startswith("on") or value.strip().lower().startswith("javascript:"):
                    found.append(f"{node.tag} {name}={value}")
    return found


@needs_kramdown
@pytest.mark.parametrize("raw", BODIES)
def test_kramdown_reads_bodies_as_html_only(raw: str) -> None:
    clean = sanitize_html(raw, base_url="https://ex.org/")
    body = kramdown_body(clean)
    (built,) = kramdown([body + ATTRIBUTION + "\n"])
    assert _links_and_handlers(built) == []
    # The attribution stays a paragraph of its own, after the body.
    assert built.rstrip().endswith(ATTRIBUTION), built
    # What kramdown writes is the sanitized HTML itself, not a reading of it as Markdown:
    # the same text (kramdown only puts line breaks between blocks).
    assert "".join(lxml_text(built).split()) == "".join(lxml_text(clean + ATTRIBUTION).split())
    assert "<code>" not in built or "<code>" in clean


def lxml_text(fragment: str) -> str:
    return str(lxml_html.fromstring(f"<div>{fragment}</div>").text_content())


def test_kramdown_body_keeps_block_html_as_it_is() -> None:
    body = "<p>日前，市工信局</p>\n <p>产业基础扎实</p>"
    assert kramdown_body(body) == body
    assert kramdown_body("text") == '<div markdown="0">text</div>'
    assert kramdown_body("<p>a</p>b") == '<div markdown="0"><p>a</p>b</div>'
    assert kramdown_body("<p>[a] […]</p>") == "<p>[a] […]</p>"  # only text, whatever is set
    for sign in ("[a](b)", "[a][b]", "[a]: b", "{: x}"):
        assert kramdown_body(f"<p>{sign}</p>").startswith('<div markdown="0">'), sign


fragments = st.sampled_from(
    [
        "[x](javascript:alert(1))",
        "![i](javascript:alert(1))",
        '{: onclick="alert(1)"}',
        '{::options parse_block_html="true" /}',
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<span>",
        "</span>",
        "<a href='https://ex.org/'>",
        "</a>",
        "\n",
        "\n\n",
        "    ",
        "\t",
        "*em*",
        "`code`",
        "<https://ex.org/>",
        "&lt;script&gt;",
        "text",
        "# h",
        "[ref]: javascript:alert(1)\n",
        "<br>",
        "<img src='https://ex.org/i.png'>",
    ]
)


@needs_kramdown
@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.lists(fragments, max_size=12).map("".join), min_size=60, max_size=60),
    st.booleans(),
)
def test_no_body_becomes_a_script_link_or_handler(raws: list[str], parse_block_html: bool) -> None:
    # Also where an operator set kramdown's parse_block_html: true, which reads the text
    # inside block HTML as Markdown.
    bodies = [kramdown_body(sanitize_html(raw, base_url="https://ex.org/")) for raw in raws]
    documents = [body + ATTRIBUTION + "\n" for body in bodies]
    built = kramdown(documents, parse_block_html=parse_block_html)
    for body, html in zip(bodies, built, strict=True):
        assert _links_and_handlers(html) == [], (body, html)
        if not parse_block_html:  # there, blank space in a block may still make a code block
            assert html.rstrip().endswith(ATTRIBUTION), (body, html)


TITLES = [
    "Tech & Science",
    "A ~~strike~~ ^sup^ $$x$$",
    "no\u00a0break and\u3000wide",
    "[x](javascript:alert(1))",
    '*x*{: autofocus onfocus="alert(1)"}',
    "{{ site.secret }} {% raise %}",
    "a_b_c *d* `e` <b>f</b> \\ back",
    "C++ / .NET: #1 | $5 = 'quoted' \"double\"",
    "天津日报新闻",
]


@needs_kramdown
@pytest.mark.parametrize("parse_block_html", [False, True])
def test_names_and_titles_are_text_only(parse_block_html: bool) -> None:
    """Category titles in the back link and source names in the attribution paragraph."""
    documents = [
        f"[Back to {markdown_text(t)}](//h/c.html){markdown_text(' | ')}x\n" for t in TITLES
    ]
    documents += [f'<p class="em_media">(Source: {markdown_text(t)})</p>\n' for t in TITLES]
    built = kramdown(documents, parse_block_html=parse_block_html)
    for title, html in zip(TITLES, built[: len(TITLES)], strict=True):
        links = re.findall(r"<a [^>]*>", html)
        assert links == ['<a href="//h/c.html">'], html
        assert "<table" not in html and "<del" not in html, html
        assert lxml_text(html).strip() == f"Back to {title} | x", html
    for title, html in zip(TITLES, built[len(TITLES) :], strict=True):
        assert "<a " not in html and "<em" not in html and "<del" not in html, html
        assert lxml_text(html).strip() == f"(Source: {title})", html


def test_bounded_depth_unwraps_what_is_too_deep() -> None:
    deep = "<div>" * 2000 + "deep" + "</div>" * 2000
    clean = sanitize_html(deep, base_url=None)
    assert clean.count("<div>") == clean.count("</div>") == MAX_DEPTH
    assert "deep" in clean
    mixed = "<p>" + "<span>" * 5 + "<b>x</b><br>y" + "</span>" * 5 + "</p>"
    assert bounded_depth(mixed, 3) == "<p><span><span>xy</span></span></p>"
    assert bounded_depth(mixed, 100) == mixed


# Front matter as Jekyll reads it: Ruby's YAML (Psych, YAML 1.1), not PyYAML.
_PSYCH = r"""
require 'json'
require 'yaml'
require 'date'
docs = JSON.parse(STDIN.read)
puts JSON.generate(docs.map { |d|
  YAML.safe_load(d, permitted_classes: [Date, Time])
      .transform_values { |v| v.is_a?(String) ? v : [v.class.to_s, v.to_s] }
})
"""


@pytest.mark.skipif(RUBY is None, reason="ruby is missing (apt-get install jekyll brings it)")
def test_front_matter_values_read_back_in_psych() -> None:
    from aggregator.publish import yaml_quote, yaml_slug, yaml_tags

    words = [
        "on",
        "yes",
        "No",
        "tRUE",
        "null",
        "~",
        "2024",
        "0123",
        "1,000",
        "0x1f",
        "1_000",
        "1:30",
        "2021-12-26",
        ".inf",
        "-1",
        "+1",
        "news",
        "天津",
        "a b",
        "tag: x",
        "#x",
    ]
    documents = [
        f"title: {yaml_quote(w)}\ntags: {yaml_tags([w])}\n"
        + (f"categories: {yaml_slug(w)}\n" if re.fullmatch(r"[a-z0-9-]+", w) else "")
        for w in words
    ]
    for word, read in zip(words, ruby_json(_PSYCH, documents), strict=True):
        assert read["title"] == word
        assert read["tags"] == "-".join(word.split()), (word, read)
        if "categories" in read:
            assert read["categories"] == word, (word, read)


def test_deep_input_is_flattened_before_the_sanitizer_reads_it() -> None:
    from aggregator.htmlshape import flattened_input

    deep = "<div>" * 3000 + "deep" + "</div>" * 3000
    flat = flattened_input(deep, 256)
    assert flat.count("<div>") == flat.count("</div>") == 256 and "deep" in flat
    # Stray end tags close nothing: they do not hide the nesting that follows.
    stray = "</div>" * 3000 + "<div>" * 3000 + "x"
    assert flattened_input(stray, 256).count("<div>") == 256
    # Elements that close by themselves, and shallow bodies however long, are left alone.
    paragraphs = "<p>x" * 5000 + "<br>" * 5000
    assert flattened_input(paragraphs, 256) is paragraphs
    shallow = "<div><b>x</b></div>" * 2000
    assert flattened_input(shallow, 256) is shallow


@given(st.text(alphabet="][(:{}<>p /a\n", max_size=40) | st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_the_quick_look_for_markdown_signs_agrees_with_searching_each(text: str) -> None:
    assert has_markdown_signs(text) == any(sign in text for sign in _MARKDOWN_SIGNS)


def test_each_markdown_sign_is_found_alone_and_among_text() -> None:
    for sign in _MARKDOWN_SIGNS:
        for text in (sign, f"<p>a {sign} b</p>", f"[x] {{y}} {sign}"):
            assert has_markdown_signs(text), text
    for text in ("", "<p>[a] […] {b} ] ( [ : {</p>", "x ]\n( y", "{ :"):
        assert not has_markdown_signs(text), text


# Raw HTML from which the sanitizer makes the bodies the quick reading is held to: block
# and text-level elements nested in each other and in themselves, text and the blank
# space kramdown tells blocks apart by, void elements, attributes, upper case.
_PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<div>", "</div>", "<blockquote>", "</blockquote>", "<ul>",
        "<li>", "</li>", "</ul>", "<ol>", "</ol>", "<h2>", "</h2>", "<pre>", "</pre>",
        "<figure>", "<figcaption>", "</figure>", "<table><tr><td>", "</td></tr></table>",
        "<b>", "</b>", "<span>", "</span>", "<a href='https://ex.org/a'>", "</a>",
        "<img src='https://ex.org/i.png' alt='x'>", "<br>", "<hr>", "<P CLASS=x>",
        "<DIV>", "text", "more words", "\n", "\n\n", "  ", "    ", "\t", "&lt;p&gt;",
        "<p title='a<b'>", "[x]", "{y}", "<section>", "</section>", "<details>",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=40).map("".join))
@settings(max_examples=3000, deadline=None)
def test_the_quick_reading_of_blocks_agrees_with_the_walk_over_every_tag(raw: str) -> None:
    from aggregator.htmlshape import _is_html_blocks, _top_level_blocks, _walk_tags

    clean = sanitize_html(raw, base_url="https://ex.org/")
    quick = _top_level_blocks(clean)
    walked = _walk_tags(clean)
    assert quick is None or quick == walked, clean
    assert _is_html_blocks(clean) == (not has_markdown_signs(clean) and walked), clean


def test_the_quick_reading_tells_the_corpus_bodies_itself() -> None:
    # Only a body with an element inside one of its own name is left to the walk: in the
    # test corpora that is rare, so the quick reading is what runs.
    from aggregator.errors import ParseError
    from aggregator.htmlshape import _top_level_blocks, _walk_tags
    from aggregator.parse import parse

    bodies = []
    data = Path(__file__).parent / "data"
    for path in sorted([*data.glob("feeds/*.xml"), *data.glob("platforms/*.xml")]):
        try:
            feed = parse(path.read_bytes(), {}, url="https://ex.org/feed")
        except ParseError:
            continue  # the broken feeds of the corpus
        for entry in feed.entries:
            raw = entry.content or entry.summary or ""
            bodies.append(sanitize_html(raw, base_url="https://ex.org/"))
    bodies = [b for b in bodies if b and not has_markdown_signs(b)]
    told = [b for b in bodies if _top_level_blocks(b) is not None]
    assert len(bodies) > 400
    assert len(told) >= 0.9 * len(bodies), (len(told), len(bodies))
    for body in bodies:
        assert _top_level_blocks(body) in (None, _walk_tags(body)), body
    assert {_walk_tags(b) for b in told} == {True, False}  # both answers, quickly
