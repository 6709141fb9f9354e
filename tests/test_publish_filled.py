"""The default post templates are filled in rather than rendered per post: the bytes
must be those Jinja writes from the same templates, which an operator's copy of them
(always rendered by Jinja) gives."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_publish import WHEN, make_config, make_post

import aggregator
from aggregator.publish import Publisher, day_strings
from aggregator.store import Store, open_store
from aggregator.types import Config, Post

TEMPLATES = Path(aggregator.__file__).parent / "templates"

# Text that escaping, YAML quoting, Liquid detection and the markers could trip on.
HOSTILE = st.lists(
    st.sampled_from(
        [
            *"ab Z09<>&\"'{}%:-#\n\t\\/",
            *["{{", "{%", "&amp;", "&#39;", "\u00e9", "天津", "\x07", "\u2028"],
            # What the markers of a template rendered once look like.
            *["\ue000post.title<\ue001", "\ue000date&lt;\ue001"],
        ]
    ),
    max_size=12,
).map("".join)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()


def copied_templates(tmp: Path) -> Path:
    """The package's templates as an operator's folder: same text, rendered by Jinja."""
    folder = tmp / "operator-templates"
    shutil.copytree(TEMPLATES, folder, dirs_exist_ok=True)
    return folder


def pair(
    tmp: Path,
    *,
    language: str = "en",
    title: str = "Test Site",
    formats: tuple[str, ...] = ("atom",),
) -> tuple[Config, Config]:
    """A config with the default templates and the same config with a copy of them."""
    config = make_config(tmp, language=language)
    config = replace(config, site=replace(config.site, title=title, formats=formats))
    rendered = replace(
        config,
        site=replace(config.site, templates_dir=copied_templates(tmp), output_dir=tmp / "rendered"),
    )
    return config, rendered


def test_only_the_package_templates_are_filled(tmp_path: Path, store: Store) -> None:
    config, rendered = pair(tmp_path)
    assert Publisher(config, store).filled_templates == {"post.md", "post.html"}
    assert Publisher(rendered, store).filled_templates == frozenset()
    for overridden, filled in [
        ("post.md", {"post.html"}),
        ("post.html", {"post.md"}),
        ("base.html", {"post.md"}),  # post.html extends it
        ("nav.html", {"post.md", "post.html"}),  # rendered once, then a constant
        ("list.html", {"post.md", "post.html"}),
    ]:
        folder = tmp_path / f"only-{overridden}"
        folder.mkdir()
        shutil.copy(TEMPLATES / overridden, folder / overridden)
        site = replace(config.site, templates_dir=folder)
        assert Publisher(replace(config, site=site), store).filled_templates == filled


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    title=HOSTILE,
    source=HOSTILE,
    author=st.one_of(st.none(), HOSTILE),
    link=HOSTILE,
    content=HOSTILE,
    tags=st.lists(HOSTILE, max_size=3),
    category=st.sampled_from(["news", "tech", "not-configured"]),
    language=st.sampled_from(["en", "zh-CN"]),
    site_title=st.sampled_from(["Test Site", "{A} & <B> {{ c }}"]),
    hours=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_filled_post_file_and_page_equal_jinja(
    tmp_path: Path,
    store: Store,
    title: str,
    source: str,
    author: str | None,
    link: str,
    content: str,
    tags: list[str],
    category: str,
    language: str,
    site_title: str,
    hours: int,
) -> None:
    config, rendered = pair(tmp_path, language=language, title=site_title)
    when = WHEN + timedelta(hours=hours, microseconds=hours % 3)
    post = make_post(
        1,
        title=title,
        source=source,
        author=author,
        link=link,
        content_html=content,
        tags=tuple(tags),
        category=category,
        published=when,
        updated=when,
    )
    filled, jinja = Publisher(config, store), Publisher(rendered, store)
    assert filled.filled_templates and not jinja.filled_templates
    assert filled.render_post_file(post) == jinja.render_post_file(post)
    assert filled.render_post_page(post) == jinja.render_post_page(post)


@pytest.mark.parametrize(
    "formats",
    [pytest.param(("atom",), id="atom"), pytest.param(("rss", "atom", "json"), id="three")],
)
def test_published_tree_is_byte_identical_to_jinja(
    tmp_path: Path, store: Store, formats: tuple[str, ...]
) -> None:
    config, rendered = pair(tmp_path, title="News & {Views}", formats=formats)
    posts: list[Post] = [
        make_post(n, category="news" if n % 3 else "tech", tags=("A & B", "{{x}}"))
        for n in range(1, 80)
    ]
    posts.append(make_post(80, title="{{ liquid }} & <b>", content_html="<p>{% raw %}</p>"))
    posts.append(make_post(81, category="unlisted", link='https://e.org/?a=1&b="2"'))
    posts.append(make_post(82, author="王五 <b>&amp;</b> {{ x }}"))
    ancient = datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)
    posts.append(make_post(83, category="tech", published=ancient, updated=ancient))
    store.upsert_posts(posts, now=WHEN)
    Publisher(config, store).publish(full=True)
    Publisher(rendered, store).publish(full=True)
    ours, theirs = config.site.output_dir, rendered.site.output_dir
    files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".md"]) == len(posts)
    for name in files:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize(
    "when",
    [
        datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC),
        datetime(2021, 12, 26, 1, 35, 42, 123456, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/St_Johns", "Europe/Dublin", "UTC"])
def test_day_strings_are_strftime(when: datetime, zone: str) -> None:
    from zoneinfo import ZoneInfo

    day = when.astimezone(ZoneInfo(zone)) if when.year > 1 else when
    # A zone's local mean time has seconds in its offset, which HTML cannot write: UTC.
    whole_minutes = day.strftime("%z")[5:] == ""
    html = day if whole_minutes else day.astimezone(UTC)
    assert day_strings(day) == (
        day.strftime("%Y-%m-%d"),
        day.strftime("%Y-%m-%d %H:%M"),
        day.strftime("%Y-%m-%d %H:%M:%S %z"),
        html.isoformat(timespec="milliseconds" if day.microsecond else "seconds"),
    )


# HTML's valid global date and time string (§2.3.5.8), which <time datetime> must hold.
HTML_DATETIME = re.compile(
    r"[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        pytest.param(
            datetime(2026, 12, 8, 2, 4, 17, 946212, tzinfo=UTC),
            "Asia/Shanghai",
            "2026-12-08T10:04:17.946+08:00",
            id="fetch-time-microseconds",
        ),
        pytest.param(
            datetime(1900, 1, 1, tzinfo=UTC),
            "Asia/Shanghai",
            "1900-01-01T00:00:00+00:00",
            id="local-mean-time-+08:05:43",
        ),
        pytest.param(
            datetime(1970, 1, 1, tzinfo=UTC),
            "Africa/Monrovia",
            "1970-01-01T00:00:00+00:00",
            id="local-mean-time--00:44:30",
        ),
    ],
)
def test_page_datetime_is_valid_html(when: datetime, zone: str, expected: str) -> None:
    from zoneinfo import ZoneInfo

    day = when.astimezone(ZoneInfo(zone))
    iso = day_strings(day)[3]
    assert iso == expected
    assert HTML_DATETIME.fullmatch(iso)
    assert datetime.fromisoformat(iso) == when.replace(microsecond=when.microsecond // 1000 * 1000)
