"""Publish stage, forms: the Jinja environment, the UI words, and templates filled
rather than rendered.

Owns how templates become text: the environment per templates folder, which templates
are the package's own, and `Form`, a template rendered once with markers and then filled
per post. Must NOT choose paths or URLs (the sitemap does), read the store or write files.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import escape

from aggregator.publish.escape import markdown_text
from aggregator.types import Post

__all__ = [
    "WORDS",
    "Form",
    "MarkedPost",
    "environment",
    "is_default",
    "marks",
    "template_faults",
    "template_problem",
    "words_for",
]

# UI words by language; the post template and pages use them.
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "back_to": "返回",
        "home": "返回首页",
        "separator": "｜",
        "source_open": "（文章来源：",
        "source_close": "）",
        "newer": "较新",
        "older": "较早",
        "latest": "最新文章",
        "categories": "分类",
        "subscribe": "订阅",
        "all_feeds": "全部订阅（OPML）",
        "page": "第 {n} 页",
        "original": "原文",
        "no_posts": "暂无文章。",
        "by": "作者：",
    },
    "en": {
        "back_to": "Back to ",
        "home": "Home",
        "separator": " | ",
        "source_open": "(Source: ",
        "source_close": ")",
        "newer": "Newer",
        "older": "Older",
        "latest": "Latest posts",
        "categories": "Categories",
        "subscribe": "Subscribe",
        "all_feeds": "All feeds (OPML)",
        "page": "Page {n}",
        "original": "Original",
        "no_posts": "No posts yet.",
        "by": "By ",
    },
}


def words_for(language: str) -> dict[str, str]:
    """UI words for a language tag such as `zh-CN` (English when unknown)."""
    return WORDS.get(language.split("-")[0].lower(), WORDS["en"])


# A per-post value in a template rendered once with markers: "<" comes out as "&lt;"
# where the template escapes the value.
_MARK = re.compile("\ue000([a-z_.]+)(<|&lt;)\ue001")
_MARK_CHARS = re.compile("[\ue000\ue001]")
_DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _escape(value: object) -> str:
    """markupsafe.escape(value) as a plain str; a str is escaped without its two calls."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


def mark(name: str) -> str:
    return f"\ue000{name}<\ue001"


def marks(names: Iterable[str]) -> dict[str, str]:
    return {name: mark(name) for name in names}


class MarkedPost:
    """Stands for a post in a template rendered once: each field reads as its marker."""

    __slots__ = ()

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return mark(f"post.{name}")


@dataclass(frozen=True, slots=True)
class Form:
    """A template rendered once with markers where the per-post values go, cut at the
    markers: the rest is the same for every post of a category (and page depth), so a
    post costs an escape per field and one join, not a Jinja render.

    Right only for a template that writes each per-post value as it is (escaped or not)
    and never branches on one: the default templates, which tests hold equal to their
    Jinja rendering (post.html leaves out the original link's paragraph of a post without
    a link: such a post's page is rendered, posts.py says). Operators' templates always go
    through Jinja.
    """

    texts: tuple[str, ...]  # the text around the markers at even indexes, "" between
    order: tuple[int, ...]  # which field each marker is, by index in `fields`
    fields: tuple[tuple[str | None, str, bool], ...]  # post attribute, name, escaped

    @classmethod
    def cut(cls, rendered: str) -> Form | None:
        """The form of `rendered`; None when a marker came out altered (filtered, cut)."""
        parts = _MARK.split(rendered)
        texts = parts[::3]
        if any(_MARK_CHARS.search(text) for text in texts):
            return None
        fields: dict[tuple[str | None, str, bool], int] = {}
        order = []
        for name, sign in zip(parts[1::3], parts[2::3], strict=True):
            attribute = name[5:] if name.startswith("post.") else None
            order.append(fields.setdefault((attribute, name, sign != "<"), len(fields)))
        spaced = [""] * (2 * len(texts) - 1)
        spaced[::2] = texts
        return cls(tuple(spaced), tuple(order), tuple(fields))

    def fill(self, post: Post, values: dict[str, str]) -> str:
        filled: list[str] = []
        for attribute, name, escaped in self.fields:
            value = values[name] if attribute is None else getattr(post, attribute)
            # As Jinja writes a value: escape() when escaping, else str().
            filled.append(_escape(value) if escaped else str(value))
        out = list(self.texts)
        out[1::2] = [filled[index] for index in self.order]
        return "".join(out)


def environment(templates_dir: Path | None) -> jinja2.Environment:
    """The Jinja environment of `templates_dir` (None: the package's templates alone)."""
    return _environment(templates_dir, _version(templates_dir))


def template_faults(templates_dir: Path) -> list[tuple[str, str]]:
    """Every file of an operator's templates folder that does not compile, as (its name,
    the fault: "line 3: unexpected '}'"), in name order; hidden files are left out.

    Compiles in memory only: no bytecode cache is written. Raises nothing.
    """
    env = environment(templates_dir)
    faults: list[tuple[str, str]] = []
    try:
        paths = sorted(p for p in templates_dir.iterdir() if not p.name.startswith("."))
    except OSError as e:
        return [(".", f"cannot list ({e.strerror or e})")]
    for path in paths:
        if not path.is_file():
            continue
        try:
            env.compile(path.read_text(encoding="utf-8"), path.name, str(path))
        except UnicodeDecodeError as e:
            faults.append((path.name, f"not UTF-8 text (byte {e.start})"))
        except OSError as e:
            faults.append((path.name, f"cannot read ({e.strerror or e})"))
        except jinja2.TemplateSyntaxError as e:  # TemplateAssertionError too (unknown filter)
            message = " ".join((e.message or "syntax error").split())
            faults.append((path.name, f"line {e.lineno}: {message}"))
    return faults


def is_default(env: jinja2.Environment, name: str) -> bool:
    """Whether template `name` comes from the package (no operator's file overrides it)."""
    loader = env.loader
    assert loader is not None
    try:
        _, filename, _ = loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        return False
    return filename is not None and Path(filename).resolve() == _DEFAULT_TEMPLATES / name


def template_problem(e: Exception) -> str | None:
    """`e` as one line naming the template file and the line in it that failed; None
    when `e` did not come from a template (a bug of ours, which must surface)."""
    if isinstance(e, jinja2.TemplateNotFound):
        return f"template {e.name}: not found"
    if isinstance(e, jinja2.TemplateSyntaxError):
        return f"template {e.filename or e.name}, line {e.lineno}: {_first_line(e)}"
    # A fault while rendering (an undefined name, `1/0`, a filter given the wrong type):
    # Jinja rewrites the traceback so that each template frame is one of its file and
    # line, marked by `__jinja_exception__`; the last is where it failed.
    where = None
    tb = e.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if where is None:
        return f"template: {_first_line(e)}" if isinstance(e, jinja2.TemplateError) else None
    return f"template {where[0]}, line {where[1]}: {_first_line(e)}"


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _version(templates_dir: Path | None) -> tuple[tuple[str, int], ...]:
    """What identifies the state of an operator's templates folder: names and mtimes."""
    if templates_dir is None:
        return ()
    try:
        with os.scandir(templates_dir) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries))
    except OSError:
        return ()  # the loader reports a missing template by name


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: Path | None, version: object) -> jinja2.Environment:
    """The Jinja environment for a templates folder at one `version`, shared by the
    publishes of a process (the daemon publishes many times): templates compile once,
    and an edited folder gets a new environment at the next publish."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.PackageLoader("aggregator", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
        # `version` stands for the check: no stat() per render (`extends` looks up
        # base.html on every render).
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["markdown_text"] = markdown_text
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between processes (Jinja's private folder in the temp
    dir, keyed by each template's source): a `publish` from cron does not compile them
    again each time. None when that folder cannot be used safely."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None
