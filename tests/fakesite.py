"""A fake site for the Fetcher: answers written in the test, sent through
`httpx.MockTransport`, with no socket. Beside tests/httpserver.py: unit tests of the fetch
policy may use this; anything end to end runs the real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import httpx

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeSite:
    """Answers by full URL from a table (404 for any other); records every request it gets.

    An answer is an `httpx.Response`, or a handler called with the request (sync or async).
    """

    def __init__(self, routes: Mapping[str, Handler | httpx.Response] | None = None) -> None:
        self.routes: dict[str, Handler | httpx.Response] = dict(routes or {})
        self.requests: list[httpx.Request] = []

    def add(self, url: str, body: bytes, *, status: int = 200, **headers: str) -> None:
        """Answer `url` with `body`; header names are written with "_" for "-"."""
        fields = {name.replace("_", "-"): value for name, value in headers.items()}
        self.routes[url] = httpx.Response(status, headers=fields, content=body)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get(str(request.url))
        if answer is None:
            return httpx.Response(404)
        if isinstance(answer, httpx.Response):
            return answer
        result = answer(request)
        return result if isinstance(result, httpx.Response) else await result

    def transport(self) -> httpx.MockTransport:
        """A transport for `Fetcher(..., transport=...)` that sends every request here."""
        return httpx.MockTransport(self)

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]
