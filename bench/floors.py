"""Baselines for the benchmark table: the floors (what the machine does with the fastest
plain tool for each stage) and the naive pipeline a user would script.
Measures only; writes nothing outside the directories it is given.

    python -m bench.floors naive URLS_FILE OUT_DIR   # the naive pipeline, one JSON line
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FetchFloor",
    "FileFloor",
    "aiohttp_rounds",
    "create_files",
    "feedparser_defaults",
    "lxml_atom",
    "lxml_parse",
    "naive_pipeline",
    "nh3_sanitize",
    "tree_files",
]


WARM_ROUNDS = 3  # all-304 rounds timed, for aiohttp and for ours alike; the fastest counts


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchFloor:
    cold_s: float  # every body fetched
    warm_s: float  # every request conditional, every answer 304
    bytes: int


async def _aiohttp(urls: Sequence[str], concurrency: int) -> FetchFloor:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        slots = asyncio.Semaphore(concurrency)

        async def get(url: str, headers: dict[str, str]) -> tuple[dict[str, str], int]:
            async with slots, session.get(url, headers=headers) as response:
                body = await response.read()
                validators = {}
                if etag := response.headers.get("ETag"):
                    validators["If-None-Match"] = etag
                if modified := response.headers.get("Last-Modified"):
                    validators["If-Modified-Since"] = modified
                return validators, len(body) if response.status == 200 else -1

        start = time.perf_counter()
        cold = await asyncio.gather(*(get(u, {}) for u in urls))
        cold_s = time.perf_counter() - start
        warm_s = float("inf")
        for _ in range(WARM_ROUNDS):  # a 0.1 s round: the fastest of a few, as for ours
            start = time.perf_counter()
            warm = await asyncio.gather(*(get(u, v) for u, (v, _) in zip(urls, cold, strict=True)))
            warm_s = min(warm_s, time.perf_counter() - start)
            if any(n != -1 for _, n in warm):
                raise RuntimeError("the aiohttp warm round was not all 304")
    return FetchFloor(cold_s=cold_s, warm_s=warm_s, bytes=sum(n for _, n in cold))


def aiohttp_rounds(urls: Sequence[str], *, concurrency: int = 50) -> FetchFloor:
    """The fetch floor: aiohttp, one session, `concurrency` requests in flight; a cold
    round, then the fastest of WARM_ROUNDS rounds with every response's validators (all
    304)."""
    return asyncio.run(_aiohttp(urls, concurrency))


def lxml_parse(bodies: Iterable[tuple[bytes, str]]) -> tuple[float, int]:
    """The parse floor: `lxml.etree.fromstring` on every (body, content type); (seconds,
    items seen). A charset given only in the header is handed to the parser."""
    from lxml import etree

    parsers: dict[str, etree.XMLParser] = {}
    items = 0
    start = time.perf_counter()
    for body, content_type in bodies:
        charset = content_type.lower().partition("charset=")[2].strip() or None
        parser = None
        if charset:
            parser = parsers.get(charset) or parsers.setdefault(
                charset, etree.XMLParser(encoding=charset)
            )
        root = etree.fromstring(body, parser)
        items += sum(1 for _ in root.iter("item", "{http://www.w3.org/2005/Atom}entry"))
    return time.perf_counter() - start, items


def feedparser_defaults(bodies: Iterable[tuple[bytes, str]]) -> tuple[float, int]:
    """feedparser as a user calls it (sanitizer and URI resolver on); (seconds, items)."""
    import feedparser

    items = 0
    start = time.perf_counter()
    for body, content_type in bodies:
        items += len(
            feedparser.parse(body, response_headers={"content-type": content_type}).entries
        )
    return time.perf_counter() - start, items


def nh3_sanitize(fragments: Sequence[str]) -> float:
    """The sanitize floor: one reused `nh3.Cleaner` over every fragment; seconds."""
    import nh3

    cleaner = nh3.Cleaner()
    start = time.perf_counter()
    for fragment in fragments:
        cleaner.clean(fragment)
    return time.perf_counter() - start


def lxml_atom(feeds: Sequence[Sequence[tuple[str, str, str, str]]], out_dir: Path) -> float:
    """The Atom-writing floor: an lxml builder writes one feed per list of
    (id, title, link, content_html) entries; seconds."""
    from lxml import etree

    atom = "http://www.w3.org/2005/Atom"
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for n, entries in enumerate(feeds):
        root = etree.Element(f"{{{atom}}}feed", nsmap={None: atom})
        etree.SubElement(root, f"{{{atom}}}title").text = f"Feed {n}"
        etree.SubElement(root, f"{{{atom}}}id").text = f"urn:bench:{n}"
        etree.SubElement(root, f"{{{atom}}}updated").text = "2024-01-01T00:00:00Z"
        for key, title, link, content in entries:
            entry = etree.SubElement(root, f"{{{atom}}}entry")
            etree.SubElement(entry, f"{{{atom}}}id").text = key
            etree.SubElement(entry, f"{{{atom}}}title").text = title
            etree.SubElement(entry, f"{{{atom}}}link", href=link)
            etree.SubElement(entry, f"{{{atom}}}updated").text = "2024-01-01T00:00:00Z"
            body = etree.SubElement(entry, f"{{{atom}}}content", type="html")
            body.text = content
        (out_dir / f"{n}.xml").write_bytes(
            etree.tostring(root, xml_declaration=True, encoding="utf-8")
        )
    return time.perf_counter() - start


@dataclass(frozen=True, slots=True, kw_only=True)
class FileFloor:
    seconds: float
    files: int
    bytes: int
    directories: int

    @property
    def us_per_file(self) -> float:
        return self.seconds / self.files * 1e6 if self.files else 0.0


def tree_files(root: Path) -> list[tuple[str, int]]:
    """(path relative to `root`, size) of every file under `root`, in directory order;
    hidden folders (the publisher's `.tmp`) are left out."""
    found: list[tuple[str, int]] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel)) as entries:
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    found.append((path, entry.stat(follow_symlinks=False).st_size))
    return found


def create_files(files: Sequence[tuple[str, int]], out_dir: Path) -> FileFloor:
    """The file-creation floor: create every (relative path, size) under `out_dir`, which
    must not exist yet, as the publisher does: os.open of a temp name in `out_dir/.tmp`,
    os.write, os.close, os.rename into place, folders made on the first FileNotFoundError.
    One thread, no fsync, no rendering; seconds for the lot, folders included."""
    out_dir.mkdir(parents=True)
    temp_dir = str(out_dir / ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    data = memoryview(b"x" * max((size for _, size in files), default=0))
    root = str(out_dir)
    start = time.perf_counter()
    os.mkdir(temp_dir)
    for n, (rel, size) in enumerate(files):
        temp = f"{temp_dir}/{n}.tmp"
        fd = os.open(temp, flags, 0o666)
        try:
            view = data[:size]
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        path = f"{root}/{rel}"
        try:
            os.rename(temp, path)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.rename(temp, path)
    seconds = time.perf_counter() - start
    return FileFloor(
        seconds=seconds,
        files=len(files),
        bytes=sum(size for _, size in files),
        directories=len({os.path.dirname(rel) for rel, _ in files}),
    )


def naive_pipeline(urls: Sequence[str], out_dir: Path) -> dict[str, int]:
    """What a first script does: a sequential `httpx.Client`, `feedparser.parse` with its
    defaults on the body and headers, then feedgen writes one Atom feed per source."""
    import feedparser
    import httpx
    from feedgen.feed import FeedGenerator

    out_dir.mkdir(parents=True, exist_ok=True)
    items = 0
    with httpx.Client(timeout=30) as client:
        for n, url in enumerate(urls):
            response = client.get(url)
            parsed = feedparser.parse(response.content, response_headers=dict(response.headers))
            fg = FeedGenerator()
            fg.id(url)
            fg.title(parsed.feed.get("title") or url)
            fg.link(href=url, rel="self")
            fg.updated("2024-01-01T00:00:00Z")
            for e in parsed.entries:
                fe = fg.add_entry(order="append")
                fe.id(e.get("id") or e.get("link") or f"{url}#{items}")
                fe.title(e.get("title") or "untitled")
                if e.get("link"):
                    fe.link(href=e["link"])
                fe.updated("2024-01-01T00:00:00Z")
                content = e.get("content")
                fe.content(content[0]["value"] if content else e.get("summary", ""), type="html")
                items += 1
            fg.atom_file(str(out_dir / f"{n}.xml"))
    return {"feeds": len(urls), "items": items}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[0] != "naive":
        print(__doc__, file=sys.stderr)
        return 2
    urls = Path(args[1]).read_text(encoding="utf-8").split()
    print(json.dumps(naive_pipeline(urls, Path(args[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
