"""Parse stage, decoding: which encoding a feed's bytes are read in, and the bytes as UTF-8.
Both parse paths decode through `to_utf8`, so they read every body alike. Pure: no I/O; of
the feed format it knows only the XML declaration.

Labels (a Content-Type charset, an XML declaration) mean what the WHATWG Encoding Standard
says, as in a browser: "ISO-8859-1" and "US-ASCII" are windows-1252, "Shift_JIS" is
windows-31j, "EUC-KR" windows-949, "GB2312" and "GBK" GB18030, "TIS-620" windows-874.
webencodings holds the labels; the codecs are ours where Python's codec of the same name
decodes otherwise than the standard (see _CODECS).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

import charset_normalizer
import webencodings

from aggregator.errors import ParseError

__all__ = ["Decoded", "to_utf8", "utf8_unchecked"]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body read as text and written as UTF-8."""

    body: bytes  # UTF-8 without a BOM; an XML declaration in it names UTF-8 or nothing
    encoding: str  # the WHATWG name of the encoding read ("utf-8", "shift_jis", "gbk"...)


_BOMS = (  # UTF-32's first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32le"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32be"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8"),
    (b"\xff\xfe", "utf-16-le", "utf-16le"),
    (b"\xfe\xff", "utf-16-be", "utf-16be"),
)
# "<?" in UTF-16 or UTF-32 without a BOM (XML 1.0 appendix F.1): no ASCII label can be read.
_WIDE_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be", "utf-32be"),
    (b"<\x00\x00\x00", "utf-32-le", "utf-32le"),
    (b"\x00<\x00?", "utf-16-be", "utf-16be"),
    (b"<\x00?\x00", "utf-16-le", "utf-16le"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^\s"';,]+)""", re.I)
_PROLOG = re.compile(rb"^(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])", re.I)
_UTF8_NAME = "utf-8"


def _table(codec: str) -> str:
    # Python's single-byte codecs are charmap tables: the module encodings.<codec> has it.
    table: str = import_module(f"encodings.{codec}").decoding_table
    return table


def _with_c1(table: str) -> str:
    # The standard's single-byte indexes give each byte 0x80-0x9F a Python codec leaves
    # undefined its own code point (a C1 control, which normalize then reads or drops).
    return "".join(
        chr(i) if c == "\ufffe" and 0x80 <= i <= 0x9F else c for i, c in enumerate(table)
    )


def _patched(table: str, changes: dict[int, str]) -> str:
    chars = list(table)
    for byte, char in changes.items():
        chars[byte] = char
    return "".join(chars)


def _charmap(table: str) -> Callable[[bytes, str], str]:
    def decode(data: bytes, errors: str) -> str:
        return codecs.charmap_decode(data, errors, table)[0]

    return decode


def _gb18030(data: bytes, errors: str) -> str:
    """GB18030, read through Python's GBK codec first: on bytes that codec decodes it
    gives the very characters GB18030's does (each two-byte pair, tests/test_encoding.py
    checks all of them) some three times faster. Four-byte sequences, the euro at 0x80
    and bad bytes fail there, and the whole body is read as GB18030."""
    try:
        return data.decode("gbk")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors)


# WHATWG names whose Python namesake decodes otherwise or slower (the rest decode with
# webencodings' codec): GBK is decoded as GB18030 (§10.1.1), windows-125x and windows-874
# map the bytes Python leaves undefined, windows-1255 has U+05BA at 0xCA, KOI8-U is
# KOI8-RU (ў, Ў at 0xAE, 0xBE).
_CODECS: dict[str, Callable[[bytes, str], str]] = {
    "gbk": _gb18030,
    "gb18030": _gb18030,
    "windows-874": _charmap(_with_c1(_table("cp874"))),
    "windows-1250": _charmap(_with_c1(_table("cp1250"))),
    "windows-1251": _charmap(_with_c1(_table("cp1251"))),
    "windows-1252": _charmap(_with_c1(_table("cp1252"))),
    "windows-1253": _charmap(_with_c1(_table("cp1253"))),
    "windows-1254": _charmap(_with_c1(_table("cp1254"))),
    "windows-1255": _charmap(_patched(_with_c1(_table("cp1255")), {0xCA: "\u05ba"})),
    "windows-1256": _charmap(_with_c1(_table("cp1256"))),
    "windows-1257": _charmap(_with_c1(_table("cp1257"))),
    "windows-1258": _charmap(_with_c1(_table("cp1258"))),
    "koi8-u": _charmap(_patched(_table("koi8_u"), {0xAE: "\u045e", 0xBE: "\u040e"})),
}
# Bytes the standard's indexes define that Python's codec does not: the euro sign at 0x80
# in GB18030 (§10.2.1) and at 0xA3E1 in Big5 (index-big5, as in windows-950).
_EXTRA = {"gb18030": {b"\x80": "\u20ac"}, "big5hkscs": {b"\xa3\xe1": "\u20ac"}}


def _whatwg_strict(error: UnicodeError) -> tuple[str, int]:
    if isinstance(error, UnicodeDecodeError):
        for raw, char in _EXTRA.get(error.encoding, {}).items():
            if error.object.startswith(raw, error.start):
                return char, error.start + len(raw)
    raise error


def _whatwg_replace(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    try:
        return _whatwg_strict(error)
    except UnicodeDecodeError:
        return "\ufffd", error.end


codecs.register_error("aggregator-whatwg-strict", _whatwg_strict)
codecs.register_error("aggregator-whatwg-replace", _whatwg_replace)
_STRICT = "aggregator-whatwg-strict"
_REPLACE = "aggregator-whatwg-replace"

# Detected encodings (charset_normalizer's names) a detector tells apart reliably from a
# feed's worth of text, as the WHATWG encoding they are read in. Latin ones it cannot
# (fixture gen-rss20-latin1.xml): those stay windows-1252.
_DETECTABLE = {
    "gb18030": "gb18030",
    "big5": "big5",
    "cp950": "big5",
    "shift_jis": "shift_jis",
    "cp932": "shift_jis",
    "euc_jp": "euc-jp",
    "euc_kr": "euc-kr",
    "cp949": "euc-kr",
    "cp1251": "windows-1251",
    "koi8_r": "koi8-r",
    "iso8859_5": "iso-8859-5",
    "cp874": "windows-874",
    "tis_620": "windows-874",
    "iso8859_11": "windows-874",
    "cp1255": "windows-1255",
    "iso8859_8": "windows-1255",
}
# A detected script that the text then holds none of was a wrong guess.
_SCRIPT = {
    "gb18030": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]"),
    "windows-874": re.compile(r"[\u0e01-\u0e5b]"),
    "windows-1255": re.compile(r"[\u05d0-\u05ea]"),
}
_DETECTED_BYTES = 65536


def to_utf8(content: bytes, content_type: str | None) -> Decoded:
    """Read `content` in the encoding its BOM, its Content-Type or its XML declaration
    names (RFC 7303 §3: in that order), else the one it is valid in or detected in; return
    it as UTF-8.

    A label names an encoding as the WHATWG Encoding Standard maps it. A declared encoding
    the bytes are not valid in gives way to the next one, then to UTF-8 and detection
    (servers send "charset=utf-8" for everything). Undeclared bytes that are not UTF-8
    are detected (CJK, Cyrillic, Thai, Hebrew), else read as windows-1252. Bytes invalid
    in the encoding chosen in the end become U+FFFD, as in a browser. UTF-8 in is
    returned as it is: the common case copies nothing.

    Raises:
        ParseError: the encoding named is one the standard refuses to decode
            ("replacement": ISO-2022-KR, HZ-GB-2312...).
    """
    unicode = _from_bom(content)
    if unicode is not None:
        return unicode
    prolog, names = _declared(content, content_type)
    declared = _from_declared(content, prolog, names)
    if declared is not None:
        return declared
    if _UTF8_NAME not in names and _is_utf8(content):
        return _utf8(content, prolog)
    if _mostly_utf8(content):
        return _transcoded(content.decode("utf-8", "replace"), _UTF8_NAME)
    # Nothing declared, or nothing declared fits: the detector's reading, if it is sure.
    detected = _detected(content, guess_gb18030=not names)
    if detected is not None:
        return detected
    name = names[0] if names else "windows-1252"
    return _transcoded(_decoder(name)(content, _REPLACE), name)


def _from_bom(content: bytes) -> Decoded | None:
    """The body read in the UTF its BOM or its first "<" names; None when neither does."""
    for bom, codec, name in _BOMS:
        if content.startswith(bom):
            rest = content[len(bom) :]
            if name == _UTF8_NAME and _is_utf8(rest):
                return _utf8(rest, _PROLOG.match(rest, 0, 1024))
            text = rest.decode(codec, "replace")
            return _transcoded(text, name)
    for start, codec, name in _WIDE_STARTS:
        if content.startswith(start):
            text = content.decode(codec, "replace")
            return _transcoded(text, name)
    return None


def _from_declared(
    content: bytes, prolog: re.Match[bytes] | None, names: list[str]
) -> Decoded | None:
    """The body read in the first encoding declared (`names`, _declared's) it is valid
    in; None when it is valid in none of them."""
    for name in names:
        if name == _UTF8_NAME:
            if _is_utf8(content):
                return _utf8(content, prolog)
            continue
        try:
            text = _decoder(name)(content, _STRICT)
        except UnicodeDecodeError:
            continue
        return _transcoded(text, name)
    return None


def utf8_unchecked(content: bytes, content_type: str | None) -> bytes | None:
    """What to_utf8 returns for `content` if it is valid UTF-8, found without reading it:
    None when to_utf8 would try another encoding first (a UTF-16 or UTF-32 BOM or start,
    another encoding declared before UTF-8). Whether `content` is valid UTF-8 is the
    caller's to tell (to_utf8 reads invalid bytes otherwise); the fast parser tells it in
    the scan it makes of the body anyway.

    Raises:
        ParseError: as to_utf8 does, for an encoding the standard refuses to decode.
    """
    if content.startswith(_BOMS[2][0]):  # UTF-8's BOM, read as to_utf8 reads it
        rest = content[len(_BOMS[2][0]) :]
        return _utf8(rest, _PROLOG.match(rest, 0, 1024)).body
    if content.startswith(tuple(bom for bom, _codec, _name in _BOMS)) or content.startswith(
        tuple(start for start, _codec, _name in _WIDE_STARTS)
    ):
        return None
    prolog, names = _declared(content, content_type)
    if names and names[0] != _UTF8_NAME:
        return None
    return _utf8(content, prolog).body


def _declared(content: bytes, content_type: str | None) -> tuple[re.Match[bytes] | None, list[str]]:
    """The XML declaration, and the WHATWG names of the encodings the Content-Type and then
    the declaration name (known ones, each once), in to_utf8's order.

    Raises:
        ParseError: the first encoding named is one the standard refuses to decode.
    """
    prolog = _PROLOG.match(content, 0, 1024)
    labels: list[str] = []
    if content_type and "charset" in content_type.lower():
        match = _HEADER_CHARSET.search(content_type)
        if match:
            labels.append(match.group(1))
    if prolog:
        labels.append(prolog.group(2).decode("ascii"))
    names: list[str] = []
    for i, label in enumerate(labels):
        known = _whatwg_name(label, in_document=i == len(labels) - 1 and prolog is not None)
        if known == "replacement" and not names:
            # ISO-2022-KR, HZ-GB-2312...: 7-bit escapes that a browser refuses to decode.
            raise ParseError(f"unsupported charset {label[:40]!r}: browsers decode it to nothing")
        if known is not None and known != "replacement" and known not in names:
            names.append(known)
    return prolog, names


def _whatwg_name(label: str, *, in_document: bool) -> str | None:
    encoding = webencodings.lookup(label)
    if encoding is None:
        return None
    name: str = encoding.name
    # A declaration read as ASCII is no UTF-16 (the standard's rule for <meta charset>),
    # and x-user-defined there means windows-1252 (HTML §13.2.3.2).
    if in_document and name in ("utf-16le", "utf-16be"):
        return _UTF8_NAME
    if in_document and name == "x-user-defined":
        return "windows-1252"
    return name


def _decoder(name: str) -> Callable[[bytes, str], str]:
    decoder = _CODECS.get(name)
    if decoder is None:
        encoding = webencodings.lookup(name)
        assert encoding is not None  # every name comes from a lookup
        info = encoding.codec_info

        def decoder(data: bytes, errors: str) -> str:
            text: str = info.decode(data, errors)[0]
            return text

    return decoder


def _is_utf8(content: bytes) -> bool:
    if content.isascii():  # told without decoding
        return True
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(content: bytes) -> bool:
    """UTF-8 with a few bad bytes (a stray windows-1252 quote, a cut sequence): a browser
    shows those as U+FFFD and the rest as it is, not the whole page as mojibake."""
    text = content.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(text.encode("utf-8")) - len(text) - 2 * bad  # continuation bytes of good ones
    return good >= 8 * bad


def _detected(content: bytes, *, guess_gb18030: bool) -> Decoded | None:
    # GB18030 decodes almost any bytes (Big5 or Shift_JIS too, as wrong Han characters):
    # a detector tells the multi-byte encodings apart. Undeclared bytes it cannot place
    # are tried as GB18030 (fixture gen-rss20-gbk-undeclared.xml); declared ones are not.
    best = charset_normalizer.from_bytes(content[:_DETECTED_BYTES]).best()
    name: str | None = _DETECTABLE.get(best.encoding) if best is not None else None
    if name is None:
        if not guess_gb18030:
            return None
        name = "gb18030"
    try:
        text = _decoder(name)(content, _STRICT)
    except UnicodeDecodeError:
        return None
    script = _SCRIPT.get(name)
    if script is not None and not script.search(text):
        return None
    return _transcoded(text, name)


def _utf8(content: bytes, prolog: re.Match[bytes] | None) -> Decoded:
    if prolog is not None and prolog.group(2).lower() not in (b"utf-8", b"utf8"):
        content = _declaring_utf8(content)
    return Decoded(body=content, encoding=_UTF8_NAME)


def _transcoded(text: str, name: str) -> Decoded:
    return Decoded(body=_declaring_utf8(text.encode("utf-8")), encoding=name)


def _declaring_utf8(body: bytes) -> bytes:
    # A declaration that names no encoding already means UTF-8 (XML 1.0 §4.3.3).
    return _PROLOG.sub(rb"\1utf-8\3", body, count=1)
