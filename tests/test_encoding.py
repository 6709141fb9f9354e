"""aggregator.parse.charset: labels read as the WHATWG Encoding Standard maps them, BOMs, the
fallbacks when a declaration is wrong, and detection of undeclared bodies."""

from __future__ import annotations

import pytest

from aggregator.errors import ParseError
from aggregator.parse.charset import to_utf8


def doc(text: str, *, declared: str | None = None) -> str:
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    return f"{prolog}<rss version='2.0'><channel><title>{text}</title></channel></rss>"


def title(body: bytes) -> str:
    text = body.decode("utf-8")
    return text[text.index("<title>") + 7 : text.index("</title>")]


# (label as a server or a prolog writes it, the encoding the standard names, the text,
# the codec that writes its bytes): each text holds a character that Python's codec of the
# label's own name does not decode (or decodes otherwise).
LABELS = [
    pytest.param("Shift_JIS", "shift_jis", "①～№㈱髙﨑", "cp932", id="shift_jis-nec-ibm"),
    pytest.param("sjis", "shift_jis", "①～", "cp932", id="sjis"),
    pytest.param("EUC-KR", "euc-kr", "똠양꿍", "cp949", id="euc-kr-uhc"),
    pytest.param("ks_c_5601-1987", "euc-kr", "똠햏뷁", "cp949", id="ks_c_5601-1987"),
    pytest.param("GB2312", "gbk", "朱镕基𪚥", "gb18030", id="gb2312-as-gb18030"),
    pytest.param("x-gbk", "gbk", "镕€", "gb18030", id="x-gbk"),
    pytest.param("ISO-8859-1", "windows-1252", "€ “smart” – it’s…", "cp1252", id="latin1-1252"),
    pytest.param("US-ASCII", "windows-1252", "naïve “quotes”", "cp1252", id="us-ascii"),
    pytest.param("ascii", "windows-1252", "café", "cp1252", id="ascii"),
    pytest.param("TIS-620", "windows-874", "“ข่าว” …", "cp874", id="tis-620"),
    pytest.param("ISO-8859-11", "windows-874", "กรุงเทพฯ €", "cp874", id="iso-8859-11"),
    pytest.param("Big5", "big5", "啲人唔想出街㗎", "big5hkscs", id="big5-hkscs"),
    pytest.param("ISO-8859-9", "windows-1254", "İstanbul’da “şimdi”", "cp1254", id="latin5-1254"),
    pytest.param("windows-1255", "windows-1255", "שָׁלוֹם", "cp1255", id="windows-1255"),
    pytest.param("KOI8-U", "koi8-u", "Київ", "koi8_u", id="koi8-u"),
]


@pytest.mark.parametrize(("label", "name", "text", "codec"), LABELS)
@pytest.mark.parametrize("where", ["content-type", "prolog"])
def test_label_means_what_the_standard_says(
    label: str, name: str, text: str, codec: str, where: str
) -> None:
    declared = label if where == "prolog" else None
    content_type = f"application/rss+xml; charset={label}" if where == "content-type" else None
    decoded = to_utf8(doc(text, declared=declared).encode(codec), content_type)

    assert decoded.encoding == name
    assert title(decoded.body) == text


def raw(title_bytes: bytes, *, declared: str | None = None) -> bytes:
    return doc("@", declared=declared).encode("ascii").replace(b"@", title_bytes)


@pytest.mark.parametrize(
    ("label", "data", "text"),
    [
        # Bytes Python's codecs leave undefined and the standard's indexes define.
        pytest.param("gbk", b"\x80", "€", id="gbk-0x80-euro"),
        pytest.param("big5", b"\xa3\xe1", "€", id="big5-0xa3e1-euro"),
        pytest.param("windows-1255", b"\xca", "\u05ba", id="windows-1255-0xca"),
        # index-windows-1252 maps 0x81 to U+0081 (normalize then drops it): one unmapped
        # byte does not send the body to another encoding.
        pytest.param("iso-8859-1", b"Caf\xe9 \x81\x93x\x94", "Café \x81“x”", id="1252-0x81"),
        pytest.param("koi8-u", b"\xae", "ў", id="koi8-u-is-koi8-ru"),
    ],
)
def test_bytes_only_the_standard_defines(label: str, data: bytes, text: str) -> None:
    assert title(to_utf8(raw(data), f"text/xml; charset={label}").body) == text


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        pytest.param(b"\xff\xfe\x00\x00", "utf-32-le", "utf-32le", id="utf-32le"),
        pytest.param(b"\x00\x00\xfe\xff", "utf-32-be", "utf-32be", id="utf-32be"),
        pytest.param(b"\xff\xfe", "utf-16-le", "utf-16le", id="utf-16le"),
        pytest.param(b"\xfe\xff", "utf-16-be", "utf-16be", id="utf-16be"),
        pytest.param(b"\xef\xbb\xbf", "utf-8", "utf-8", id="utf-8"),
    ],
)
def test_bom_outranks_every_label(bom: bytes, codec: str, name: str) -> None:
    data = bom + doc("Ünïcödé 新闻 🎉", declared="iso-8859-1").encode(codec)

    decoded = to_utf8(data, "application/xml; charset=shift_jis")

    assert decoded.encoding == name
    assert title(decoded.body) == "Ünïcödé 新闻 🎉"
    assert decoded.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encoding_without_bom_is_sniffed(codec: str) -> None:
    # XML 1.0 appendix F.1: "<?" in UTF-16 or UTF-32 reads as no ASCII label can.
    assert title(to_utf8(doc("新闻", declared="utf-16").encode(codec), None).body) == "新闻"


def test_utf8_is_returned_as_it_is() -> None:
    data = doc("天津日报", declared="UTF-8").encode()
    assert to_utf8(data, "application/rss+xml; charset=utf-8").body is data


def test_a_declaration_that_is_not_utf8_is_rewritten() -> None:
    # Header wins (RFC 7303 §3.2); the prolog must not tell a later parser otherwise.
    data = doc("天津日报", declared="iso-8859-1").encode()
    body = to_utf8(data, "application/xml; charset=utf-8").body
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert title(body) == "天津日报"


def test_prolog_saying_utf16_in_ascii_bytes_means_utf8() -> None:
    data = doc("Grüße", declared="UTF-16").encode()
    assert to_utf8(data, None).encoding == "utf-8"


def test_header_utf8_over_gbk_bytes_with_no_other_declaration_is_detected() -> None:
    text = "天津市召开新闻发布会，会议介绍了今年的经济发展情况。" * 4
    decoded = to_utf8(doc(text).encode("gbk"), "application/rss+xml; charset=utf-8")
    assert decoded.encoding == "gb18030"
    assert title(decoded.body) == text


def test_utf8_with_a_stray_byte_shows_a_replacement_character_only_there() -> None:
    # A CMS pasting one windows-1252 quote into UTF-8: the rest stays readable.
    good = "Grüße aus Zürich, 天津港今日迎来新航线 — ça va"
    data = raw(good.encode() + b" \x92 " + good.encode())
    assert title(to_utf8(data, "application/xml").body) == f"{good} \ufffd {good}"


def test_latin_text_with_no_declaration_is_windows_1252() -> None:
    text = "Die Bundesregierung hat heute neue Maßnahmen für den Klimaschutz beschlossen. „Gut“"
    decoded = to_utf8(doc(text).encode("cp1252"), "application/rss+xml")
    assert decoded.encoding == "windows-1252"
    assert title(decoded.body) == text


@pytest.mark.parametrize(
    ("codec", "name", "text"),
    [
        pytest.param(
            "tis_620", "windows-874", "รัฐบาลไทยประกาศแผนพัฒนาโครงสร้างพื้นฐานครั้งใหญ่", id="thai"
        ),
        pytest.param(
            "iso8859_8", "windows-1255", "הממשלה הודיעה היום על תוכנית חדשה לתחבורה", id="hebrew"
        ),
        pytest.param("shift_jis", "shift_jis", "東京都は本日、新しい計画を発表しました。", id="ja"),
        pytest.param("cp1251", "windows-1251", "Правительство объявило новый план.", id="ru"),
    ],
)
def test_undeclared_legacy_text_is_detected(codec: str, name: str, text: str) -> None:
    decoded = to_utf8(doc(text * 3).encode(codec), "application/rss+xml")
    assert decoded.encoding == name
    assert title(decoded.body) == text * 3


@pytest.mark.parametrize("label", ["ISO-2022-KR", "hz-gb-2312", "iso-2022-cn"])
def test_labels_the_standard_refuses_to_decode_are_a_clear_error(label: str) -> None:
    with pytest.raises(ParseError, match="unsupported charset"):
        to_utf8(doc("x", declared=label).encode(), None)


def test_an_unknown_label_is_no_declaration() -> None:
    decoded = to_utf8(doc("天津", declared="x-no-such-charset").encode(), "text/xml; charset=bogus")
    assert decoded.encoding == "utf-8"


def _decoded(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def test_gbk_codec_decodes_every_pair_it_reads_as_gb18030_does() -> None:
    # charset._gb18030 reads GB18030 through Python's faster GBK codec and takes its text
    # whenever it decodes a body: so every unit it decodes (a byte, or a lead byte and the
    # next) must come out as GB18030's, and it must refuse each one GB18030 reads
    # otherwise (its four-byte sequences begin with a lead byte and a digit).
    units = [bytes([a]) for a in range(256)]
    units += [bytes([a, b]) for a in range(0x81, 0xFF) for b in range(256)]
    decoded = 0
    for unit in units:
        gbk = _decoded(unit, "gbk")
        if gbk is not None:
            decoded += 1
            assert gbk == unit.decode("gb18030"), unit
    assert decoded > 21_000  # GBK's 21,886 pairs, less unmapped ones, and ASCII


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        pytest.param("朱镕基谈经济改革", "gbk", id="gbk-only"),
        pytest.param("古籍用字𪚥研究", "gb18030", id="four-byte-sequence"),
        pytest.param("价格 €5", "gb18030", id="euro-0x80"),
    ],
)
def test_gbk_declared_bodies_read_as_gb18030(text: str, codec: str) -> None:
    data = doc(text, declared="GBK").encode(codec)
    if codec == "gb18030" and "€" in text:
        data = data.replace("€".encode("gb18030"), b"\x80")  # the standard's one-byte euro
    decoded = to_utf8(data, None)
    assert decoded.encoding == "gbk"
    assert title(decoded.body) == text
