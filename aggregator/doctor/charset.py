"""Doctor, the charset: what the BOM, the Content-Type and the document (XML declaration,
HTML <meta>) declare, what aggregator.parse.charset reads the bytes as, and whether they
disagree. Pure: no I/O; it decodes as a round does and must NOT decide the encoding itself.
"""

from __future__ import annotations

import re

import webencodings

from aggregator.doctor.findings import Finding, finding
from aggregator.errors import ParseError
from aggregator.parse.charset import to_utf8

__all__ = ["charset_finding"]

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^\s"';,]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_HTML_ROOT = re.compile(rb"<html[\s>]", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32le"),
    (b"\x00\x00\xfe\xff", "utf-32be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16le"),
    (b"\xfe\xff", "utf-16be"),
)


def charset_finding(content: bytes, content_type: str | None) -> tuple[Finding, bytes | None]:
    """The charset finding, and the body as UTF-8 (None: it names one nobody decodes).

    Raises nothing.
    """
    header_label = _label(_HEADER_CHARSET.search(content_type or ""))
    head = content[:4096]
    document_label = _label(_XML_ENCODING.match(head)) or (
        # A <meta> names an HTML page's charset; in a feed it is some item's markup.
        _label(_META_CHARSET.search(head)) if _HTML_ROOT.search(head) else None
    )
    bom = next((name for mark, name in _BOMS if content.startswith(mark)), None)
    header, document = _whatwg(header_label), _whatwg(document_label)
    data: dict[str, object] = {
        "header": header_label,
        "document": document_label,
        "bom": bom,
        "read_as": None,
    }
    try:
        decoded = to_utf8(content, content_type)
    except ParseError as e:
        return finding(
            "charset", "error", str(e), "The body cannot be decoded: no item can be read.", **data
        ), None
    read = decoded.encoding
    data["read_as"] = read
    said = ", ".join(
        part
        for part in (
            bom and f"BOM {bom}",
            header_label and f"header {header_label}",
            document_label and f"document {document_label}",
        )
        if part
    )
    text = f"declared {said or 'nowhere'}; read as {read}"
    unknown = [
        label
        for label, name in ((header_label, header), (document_label, document))
        if label and name is None
    ]
    first = bom or header or document
    if unknown:
        meaning = f"Unknown charset label {unknown[0]!r}: ignored, the bytes were read as {read}."
    elif header and document and header != document and not bom:
        meaning = (
            f"Charset conflict: the header says {header}, the document {document}. The "
            f"header wins when the bytes are valid in it (RFC 7303 §3); they were read as "
            f"{read}: check that accented letters come out right."
        )
    elif first and first != read:
        meaning = (
            f"The bytes are not valid {first} as declared: they were read as {read} "
            "instead, and some characters may come out wrong."
        )
    elif not first and read != "utf-8":
        meaning = f"No charset declared and the bytes are not UTF-8: {read} was detected, a guess."
    else:
        return finding("charset", "ok", text, "Declared and read alike.", **data), decoded.body
    return finding("charset", "warn", text, meaning, **data), decoded.body


def _label(match: re.Match[str] | re.Match[bytes] | None) -> str | None:
    if match is None:
        return None
    value = match.group(1)
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _whatwg(label: str | None) -> str | None:
    encoding = webencodings.lookup(label) if label else None
    return encoding.name if encoding is not None else None
