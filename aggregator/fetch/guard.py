"""Fetch stage: the private-network guard. Says whether an address is private and refuses a
guarded hop that would reach one: in the resolver (the address checked is the address
connected to), and by a lookup of its own where no resolver of ours runs (IP literals, a
proxy, a transport given by the caller).
It never sends a request and never decides which hops are guarded (client.py does).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.request
from collections.abc import Iterable, Sequence

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from aggregator.errors import FetchError

__all__ = ["PRIVATE_NETWORKS", "Guard", "GuardedResolver", "PrivateAddress", "parse_networks"]

# Where an untrusted URL may not lead (RFC 6890 special-purpose registries, abridged to what
# reaches a machine or a network that is not the public internet).
PRIVATE_NETWORKS: tuple[str, ...] = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # RFC 1918
    "100.64.0.0/10",  # CGNAT, RFC 6598
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata services live here)
    "172.16.0.0/12",  # RFC 1918
    "192.0.0.0/24",  # IETF protocol assignments
    "192.168.0.0/16",  # RFC 1918
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
    "::/128",  # unspecified
    "::1/128",  # loopback
    "fc00::/7",  # unique local (ULA)
    "fe80::/10",  # link-local
    "ff00::/8",  # multicast
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddress(OSError):
    """Raised by the guarded resolver: every address of a name is in a private network."""


class Guard:
    """The checks a guarded hop gets before it goes out, over one set of private networks.

    `lookup_names`: also look up host names here, for a transport that does not resolve
    through `GuardedResolver` (one given to the Fetcher by its caller).
    """

    def __init__(self, networks: Sequence[Network], *, lookup_names: bool = False) -> None:
        self._networks = networks
        self._lookup_names = lookup_names

    async def is_private(self, url: httpx.URL) -> bool:
        """Whether `url`'s host is (or resolves only to) a private address."""
        literal = ip(url.host)
        if literal is not None:
            return within(literal, self._networks)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                url.host, url.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            return False  # the hop itself will fail to connect and say so
        addresses = [a for a in (ip(str(info[4][0])) for info in infos) if a is not None]
        return bool(addresses) and all(within(a, self._networks) for a in addresses)

    async def check(self, url: httpx.URL) -> None:
        """Refuse a hop to a private address that the guarded resolver cannot see.

        Raises: FetchError for an IP literal in a private network (aiohttp connects to
        literals without resolving), or a host name with private addresses behind a proxy
        (the proxy resolves it, so the name is looked up here) or over a transport given
        by the caller.
        """
        literal = ip(url.host)
        if literal is not None:
            if within(literal, self._networks):
                raise FetchError(refusal(url.host, literal))
            return
        if (self._lookup_names or proxied(url)) and await self.is_private(url):
            raise FetchError(refusal(url.host, None))


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, minus the addresses in private networks."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self._networks = networks
        self._resolver: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._resolver is None:
            self._resolver = aiohttp.DefaultResolver()
        found = await self._resolver.resolve(host, port, family)
        allowed = [r for r in found if not within(ip(r["host"]), self._networks)]
        if found and not allowed:
            raise PrivateAddress(refusal(host, ip(found[0]["host"])))
        return allowed

    async def close(self) -> None:
        if self._resolver is not None:
            await self._resolver.close()


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


def ip(host: str) -> Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def within(address: Address | None, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in n for n in networks)


def refusal(host: str, address: Address | None) -> str:
    """The one-line message for a refused hop (the guard's own; messages.py passes it on)."""
    where = f"{host} ({address})" if address is not None and str(address) != host else host
    return f"refused: {where} is a private address (fetch.allow_private allows it)"


def proxied(url: httpx.URL) -> bool:
    """Whether the environment sends `url` through a proxy (which resolves the name itself)."""
    proxies = urllib.request.getproxies_environment()
    if url.scheme not in proxies:
        return False
    # Not in typeshed, though public since Python 3.4 (it reads NO_PROXY).
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return not bypass(url.host, proxies)
