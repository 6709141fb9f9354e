"""Fetch stage: one response body read within the size cap, counted on the wire and again
once Content-Encoding (gzip, deflate) is undone, so a decompression bomb stops one byte past
the cap instead of inflating in memory. It sends nothing and follows no redirect.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

from aggregator.errors import FetchError
from aggregator.fetch.messages import size

__all__ = ["Decoder", "read_body"]


async def read_body(response: httpx.Response, *, cap: int) -> bytes:
    """The decoded body of `response`, at most `cap` bytes raw and decoded.

    Raises: FetchError when the body is larger than the cap (declared, on the wire or
    decoded), or its Content-Encoding is unsupported or corrupt.
    """
    too_large = f"body larger than {size(cap)}"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(too_large, status=response.status_code)
    decoder = Decoder(response.headers.get("content-encoding", ""), status=response.status_code)
    body = bytearray()
    received = 0
    async for chunk in _raw(response):
        received += len(chunk)
        if received > cap:
            raise FetchError(too_large, status=response.status_code)
        # Ask for at most one byte over the cap: a gzip bomb never inflates further.
        body += decoder.decode(chunk, limit=cap - len(body) + 1)
        if len(body) > cap:
            raise FetchError(f"{too_large} (decompressed)", status=response.status_code)
    return bytes(body)


def _raw(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's bytes as sent, before any Content-Encoding is undone."""
    stream = response.stream
    if response.is_stream_consumed and isinstance(stream, httpx.AsyncByteStream):
        # Built with `content=` (an httpx.MockTransport answer in a test), the response was
        # read and decoded by httpx already, without a cap; its stream still holds the bytes.
        return stream.__aiter__()
    return response.aiter_raw()


class Decoder:
    """Undoes Content-Encoding (gzip, deflate) with a bound on the output of each call.

    Raises (on creation): FetchError for an encoding it cannot decode.
    """

    def __init__(self, content_encoding: str, *, status: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._status = status
        self._coding = codings[0] if len(codings) == 1 else ""
        if len(codings) > 1 or self._coding not in ("", "gzip", "x-gzip", "deflate"):
            raise FetchError(
                f"unsupported Content-Encoding: {content_encoding.strip()[:40]}", status=status
            )
        self._zlib: zlib._Decompress | None = None
        self._pending = b""  # deflate: bytes held until the header shows which format

    def decode(self, data: bytes, *, limit: int) -> bytes:
        """Decode `data`; returns at most `limit` bytes (stop reading once it is reached).

        Raises: FetchError when the data is not valid for its encoding.
        """
        if not self._coding:
            return data
        try:
            return self._inflate(data, limit)
        except zlib.error as e:
            raise FetchError(f"cannot decode {self._coding} body: {e}", status=self._status) from e

    def _inflate(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            if self._coding == "deflate":
                # "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send
                # raw deflate; the two-byte zlib header tells them apart.
                data = self._pending + data
                if len(data) < 2:
                    self._pending = data
                    return b""
                self._pending = b""
                wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            else:
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = bytearray()
        while data and len(out) < limit:
            out += self._zlib.decompress(data, limit - len(out))
            if self._zlib.unconsumed_tail:  # the limit was reached
                break
            data = self._zlib.unused_data if self._zlib.eof else b""
            if data and self._coding != "deflate" and data[:2] == b"\x1f\x8b":
                # A gzip body may be several members in a row (RFC 1952 §2.2).
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                break  # anything after the end of the stream is padding: ignored
        return bytes(out)
