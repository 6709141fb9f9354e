"""Fetch stage throughput: N sources on 127.0.0.1, a cold round and an all-304 round.

    python -m bench.fetch [--feeds 2000] [--items 5] [--concurrency 50] [--latency-ms 0]

Prints requests/s for aggregator's Fetcher and for a naive sequential httpx.Client, measured
in the same run against the same server, and the peak RSS of each (each side runs in a
child process, measured by wait4). With `--latency-ms 0` the server is bench/corpus.py's
(synthetic feeds from disk); with a latency, a light in-memory server in its own process
answers each request after that delay, as a feed host across the internet would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

from bench.corpus import REPO_ROOT, machine_facts, run_measured, serve_corpus


async def _aggregator_rounds(urls: Sequence[str], concurrency: int) -> dict[str, float]:
    from aggregator.fetch import Fetcher, FetchLimits
    from aggregator.types import Validators

    # Every source sits on one host here, so the per-host limit is lifted to the global one:
    # with many hosts, the global limit is the one that binds.
    limits = FetchLimits(max_connections=concurrency, per_host=concurrency)
    async with Fetcher(limits) as fetcher:

        async def one(url: str) -> tuple[Validators, int]:
            # Keep the validators, drop the body: as the pipeline does once it is parsed.
            result = await fetcher.fetch(url)
            return result.validators, len(result.content or b"")

        start = time.perf_counter()
        cold = await asyncio.gather(*(one(u) for u in urls))
        cold_s = time.perf_counter() - start
        validators = [v for v, _ in cold]
        body_bytes = sum(n for _, n in cold)
        start = time.perf_counter()
        warm = await asyncio.gather(
            *(fetcher.fetch(u, validators=v) for u, v in zip(urls, validators, strict=True))
        )
        warm_s = time.perf_counter() - start
    assert all(r.status == 304 for r in warm), "the second round must be all 304s"
    return {"cold_s": cold_s, "warm_s": warm_s, "bytes": body_bytes}


def _naive_rounds(urls: Sequence[str]) -> dict[str, float]:
    import httpx

    with httpx.Client(timeout=30) as client:
        start = time.perf_counter()
        validators = []
        body_bytes = 0
        for url in urls:
            response = client.get(url)
            body_bytes += len(response.content)
            validators.append(response.headers.get("etag"))
        cold_s = time.perf_counter() - start
        start = time.perf_counter()
        for url, etag in zip(urls, validators, strict=True):
            response = client.get(url, headers={"If-None-Match": etag})
            assert response.status_code == 304
        warm_s = time.perf_counter() - start
    return {"cold_s": cold_s, "warm_s": warm_s, "bytes": body_bytes}


async def _serve_slow(n_items: int, latency: float) -> None:
    import signal
    import socket

    from aiohttp import web

    from bench.corpus import generate_feed

    cache: dict[int, tuple[bytes, str]] = {}

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if index not in cache:
            body = generate_feed(1, index, n_items, version=0)
            cache[index] = (body, f'"{index:x}-{len(body):x}"')
        body, etag = cache[index]
        await asyncio.sleep(latency)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "text/xml"})

    app = web.Application()
    app.router.add_get(r"/feed/{index:\d+}.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, backlog=1024).start()
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


@contextlib.contextmanager
def _slow_server(n_items: int, latency_ms: float, env: dict[str, str]) -> Iterator[str]:
    command = [sys.executable, "-m", "bench.fetch", "--serve", "--items", str(n_items)]
    command += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        if len(ready) != 2:
            raise RuntimeError(f"server did not start (exit {proc.poll()})")
        yield f"http://127.0.0.1:{ready[1]}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _worker(kind: str, base_url: str, n: int, concurrency: int) -> int:
    urls = [f"{base_url}/feed/{i}.xml" for i in range(n)]
    if kind == "aggregator":
        result = asyncio.run(_aggregator_rounds(urls, concurrency))
    else:
        result = _naive_rounds(urls)
    print(json.dumps(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch")
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--worker", choices=["aggregator", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.base_url, args.feeds, args.concurrency)
    if args.serve:
        asyncio.run(_serve_slow(args.items, args.latency_ms / 1000))
        return 0

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    facts = machine_facts()
    print(" · ".join(f"{k} {v}" for k, v in facts.items()))
    with contextlib.ExitStack() as stack:
        if args.latency_ms:
            base_url = stack.enter_context(_slow_server(args.items, args.latency_ms, env))
            print(
                f"{args.feeds} feeds x {args.items} items on 127.0.0.1, {args.latency_ms:g} ms "
                f"per response; Fetcher at concurrency {args.concurrency}"
            )
        else:
            server = stack.enter_context(serve_corpus(args.feeds, args.items))
            base_url = server.base_url
            print(
                f"{args.feeds} feeds x {args.items} items on 127.0.0.1, "
                f"{server.total_bytes / 1e6:.1f} MB in all; "
                f"Fetcher at concurrency {args.concurrency}"
            )
        rows = []
        for kind in ("aggregator", "naive"):
            measured = run_measured(
                [
                    sys.executable,
                    "-m",
                    "bench.fetch",
                    "--worker",
                    kind,
                    "--base-url",
                    base_url,
                    "--feeds",
                    str(args.feeds),
                    "--concurrency",
                    str(args.concurrency),
                ],
                env=env,
                cwd=REPO_ROOT,
            )
            if measured.returncode != 0:
                print(measured.stderr, file=sys.stderr)
                return 1
            result = json.loads(measured.stdout.strip().splitlines()[-1])
            rows.append((kind, result, measured.max_rss_bytes))

    label = {"aggregator": "aggregator Fetcher (async)", "naive": "naive sequential httpx"}
    print(f"{'':28} {'cold req/s':>11} {'304 req/s':>10} {'peak RSS':>9}")
    for kind, result, rss in rows:
        print(
            f"{label[kind]:28} {args.feeds / result['cold_s']:>11,.0f} "
            f"{args.feeds / result['warm_s']:>10,.0f} {rss / 2**20:>7.0f} MB"
        )
    (_, ours, _), (_, naive, _) = rows
    print(
        f"ratio: cold {naive['cold_s'] / ours['cold_s']:.1f}x, "
        f"304 {naive['warm_s'] / ours['warm_s']:.1f}x the naive baseline"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
