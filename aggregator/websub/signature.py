"""X-Hub-Signature (WebSub §8): the HMAC of a push's raw body under its subscription's
secret. Pure; must NOT read the body from anywhere or decide what a refused push answers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

__all__ = ["METHODS", "sign", "signed"]

# The methods WebSub §8 names, by the name the header gives.
METHODS: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def sign(body: bytes, secret: str, method: str = "sha256") -> str:
    """The X-Hub-Signature value a hub sends for `body` (`method=hexdigest`)."""
    return f"{method}={hmac.new(secret.encode(), body, METHODS[method]).hexdigest()}"


def signed(body: bytes, secret: str, header: str | None) -> bool:
    """Whether `header` (X-Hub-Signature, or None when absent) is a valid signature of
    `body` under `secret`, by a method WebSub names; compared in constant time."""
    if not header:
        return False
    method, _, given = header.strip().partition("=")
    digest = METHODS.get(method.strip().lower())
    if digest is None or not given.strip():
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest().encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))
