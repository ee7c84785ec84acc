"""20,000 authenticated requests under faults, against the suite as ``make run`` starts it.

Run: ``.venv/bin/python bench/load.py`` (about a minute; ``--requests``, ``--concurrency``).
Everything on 127.0.0.1: the issuer, the calendar and the geocoding API under gunicorn with
``make run``'s arguments, and 50 client threads here. Traffic: valid tokens for both APIs,
taking turns, and one request in twenty with a token whose ``kid`` is made up. Key settings
are shortened so a run crosses them: a key set lives 6 s (refreshed ahead from 4.8 s), a
refetch waits 5 s at least (``AUTH_JWKS_CACHE_LIFETIME``, ``AUTH_JWKS_REFETCH_COOLDOWN``).

Faults, mid-run:

* at 25% of the requests the issuer is frozen (SIGSTOP to its master and workers) for 8 s,
  then thawed (SIGCONT): no valid request may be refused, and none whose ``kid`` is cached may
  wait on a fetch (the slowest is printed; a scheduled refresh falls inside the freeze);
* at 70% the issuer's keys are rotated (``python -m dev_issuer rotate-keys``) and half of the
  valid requests from then on carry tokens signed by the new key: each API accepts them once
  it has refetched, which it does at the first such token the cooldown allows.

Printed, one line per part with its target: errors and 5xx answers among valid requests (0),
the made-up ``kid`` requests' answers (401, or 503 while the issuer is frozen), JWKS fetches
against the cooldown budget, the slowest valid request during the freeze, new-key tokens
refused and when the last one was, and every worker's resident memory before and after
(growth < 20%).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
from suite import ROOT, Server, Suite, mint_client_tokens, mint_user_tokens, suite

LIFETIME, COOLDOWN, FREEZE = 6.0, 5.0, 8.0
HTTP_TIMEOUT = 5.0
PATHS = {
    "geocoding_api": "/geocoding/v1/reverse?lat=48.8566&lon=2.3522",
    "calendar_api": "/calendar/v1/events?limit=5",
}


@dataclass
class Outcome:
    kind: str  # "valid", "new-key", "made-up kid"
    api: str
    status: int | None  # None: no answer (connection error)
    seconds: float
    at: float
    phase: str


@dataclass
class Clock:
    """What happened when (monotonic seconds), for sorting outcomes into phases."""

    frozen_at: float | None = None
    thawed_at: float | None = None
    rotated_at: float | None = None
    new_tokens: dict[str, list[str]] = field(default_factory=dict)

    def phase(self, at: float) -> str:
        if (
            self.frozen_at is not None
            and at >= self.frozen_at
            and (self.thawed_at is None or at < self.thawed_at)
        ):
            return "frozen"
        return "rotated" if self.rotated_at is not None and at >= self.rotated_at else "normal"


@dataclass
class Results:
    outcomes: list[Outcome]
    clock: Clock
    fetches: int
    run_seconds: float
    rss_before: dict[str, dict[int, float]]
    rss_after: dict[str, dict[int, float]]


def made_up_kid(token: str) -> str:
    """The same token with a random ``kid``: its signature no longer matters, the key does."""
    _head, body, signature = token.split(".")
    header = jwt.get_unverified_header(token)
    header["kid"] = f"made-up-{random.randrange(10**9)}"
    encoded = jwt.utils.base64url_encode(json.dumps(header).encode()).decode()
    return f"{encoded}.{body}.{signature}"


def signal_all(server: Server, sig: signal.Signals) -> None:
    for pid in [server.process.pid, *server.workers()]:
        os.kill(pid, sig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, suite(Path(scratch) / "suite") as running:
        settings = {
            "AUTH_JWKS_CACHE_LIFETIME": str(LIFETIME),
            "AUTH_JWKS_REFETCH_COOLDOWN": str(COOLDOWN),
            "AUTH_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
        }
        apis = {name: running.start(name, extra=settings) for name in PATHS}
        issuer = next(s for s in running.servers if s.name == "dev_issuer")
        app = running.issuer_app()
        tokens = {
            "geocoding_api": mint_client_tokens(app, 20),
            "calendar_api": mint_user_tokens(app, 20),
        }
        results = run_load(running, apis, issuer, tokens, args)
    return report(results, time.monotonic() - began, args)


def run_load(
    running: Suite,
    apis: dict[str, Server],
    issuer: Server,
    tokens: dict[str, list[str]],
    args: argparse.Namespace,
) -> Results:
    clock = Clock()
    done = Counter()
    lock = threading.Lock()
    local = threading.local()
    names = list(PATHS)
    errors: list[str] = []

    def one(i: int) -> Outcome:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        api = names[i % 2]
        if i % 20 == 0:
            kind, token = "made-up kid", made_up_kid(random.choice(tokens[api]))
        elif clock.rotated_at is not None and i % 4 < 2 and clock.new_tokens:
            kind, token = "new-key", random.choice(clock.new_tokens[api])
        else:
            kind, token = "valid", random.choice(tokens[api])
        start = time.monotonic()
        try:
            response = session.get(
                apis[api].url + PATHS[api],
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            status: int | None = response.status_code
        except requests.RequestException as exc:
            status = None
            errors.append(f"{api}: {type(exc).__name__}: {exc}"[:300])
        end = time.monotonic()
        with lock:
            done["n"] += 1
        return Outcome(kind, api, status, end - start, start, clock.phase(start))

    def faults() -> None:
        while done["n"] < args.requests * 0.25:
            time.sleep(0.01)
        signal_all(issuer, signal.SIGSTOP)
        clock.frozen_at = time.monotonic()
        time.sleep(FREEZE)
        signal_all(issuer, signal.SIGCONT)
        clock.thawed_at = time.monotonic()
        while done["n"] < args.requests * 0.7:
            time.sleep(0.01)
        env = {k: v for k, v in running.env.items() if k.startswith("DEV_ISSUER")}
        subprocess.run(
            [sys.executable, "-m", "dev_issuer", "rotate-keys"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        app = running.issuer_app()  # reads the new current key
        clock.new_tokens = {
            "geocoding_api": mint_client_tokens(app, 10),
            "calendar_api": mint_user_tokens(app, 10),
        }
        clock.rotated_at = time.monotonic()

    warm = ThreadPoolExecutor(args.concurrency)
    list(warm.map(one, range(1, 1001)))  # warm-up: caches, connections, lazy imports
    warm.shutdown()
    rss_before = {name: server.rss_mib() for name, server in apis.items()}
    rss_before["dev_issuer"] = issuer.rss_mib()
    fetches_before = jwks_fetches(running)
    injector = threading.Thread(target=faults, daemon=True)
    injector.start()
    with ThreadPoolExecutor(args.concurrency) as pool:
        outcomes = list(pool.map(one, range(args.requests)))
    injector.join(timeout=60)
    for message in errors[:3]:
        print("no answer:", message)
    rss_after = {name: server.rss_mib() for name, server in apis.items()}
    rss_after["dev_issuer"] = issuer.rss_mib()
    run_seconds = max(o.at + o.seconds for o in outcomes) - min(o.at for o in outcomes)
    fetches = jwks_fetches(running) - fetches_before
    return Results(outcomes, clock, fetches, run_seconds, rss_before, rss_after)


def jwks_fetches(running: Suite) -> int:
    """JWKS requests the issuer has answered (from its JSON access log)."""
    count = 0
    for log in running.folder.glob("dev_issuer-*.log"):
        count += log.read_text(errors="replace").count('"path": "/.well-known/jwks.json"')
    return count


def report(results: Results, elapsed: float, args: argparse.Namespace) -> int:
    outcomes, clock, fetches = results.outcomes, results.clock, results.fetches
    run_seconds, before, after = results.run_seconds, results.rss_before, results.rss_after
    met = True

    def line(label: str, figure: str, ok: bool | None, target: str) -> None:
        nonlocal met
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        met &= ok is not False
        print(f"{label:44} {figure:>34}   {target} {verdict}")

    valid = [o for o in outcomes if o.kind != "made-up kid"]
    fakes = [o for o in outcomes if o.kind == "made-up kid"]
    rate = len(outcomes) / run_seconds
    print(
        f"{len(outcomes):,} requests at concurrency {args.concurrency} in {run_seconds:.1f} s "
        f"({rate:,.0f}/s), both APIs under gunicorn as make run starts them\n"
    )
    errors = sum(o.status is None for o in valid)
    server_errors = sum(o.status is not None and o.status >= 500 for o in valid)
    refused = [o for o in valid if o.kind == "valid" and o.status != 200]
    line(
        "valid requests: no answer / 5xx",
        f"{errors} / {server_errors}",
        errors + server_errors == 0,
        "0 / 0",
    )
    line("valid requests refused (old key, any phase)", str(len(refused)), not refused, "0")
    fake_status = Counter(o.status for o in fakes)
    fake_ok = set(fake_status) <= {401, 503} and all(
        o.status == 401 or o.phase == "frozen" or o.at < (clock.thawed_at or 0) + HTTP_TIMEOUT
        for o in fakes
    )
    line(
        "made-up kid: answers",
        ", ".join(f"{s}: {n}" for s, n in sorted(fake_status.items(), key=str)),
        fake_ok,
        "401 (503 while frozen)",
    )
    budget = 4 * (int(run_seconds / COOLDOWN) + 2)  # 4 API workers: one per cooldown, + start
    line(
        "JWKS fetches during the run",
        f"{fetches} (budget {budget})",
        fetches <= budget,
        "<= budget",
    )
    frozen = [o for o in valid if o.kind == "valid" and o.phase == "frozen"]
    slowest = max((o.seconds for o in frozen), default=0.0)
    line(
        f"slowest valid request while frozen ({len(frozen):,})",
        f"{slowest * 1000:.0f} ms",
        bool(frozen) and slowest < 1.0,
        f"< 1000 ms (timeout {HTTP_TIMEOUT:g} s)",
    )
    new = [o for o in valid if o.kind == "new-key"]
    new_refused = [o for o in new if o.status != 200]
    window = COOLDOWN + HTTP_TIMEOUT
    late = [o for o in new_refused if o.at - (clock.rotated_at or 0) > window]
    last = max((o.at - clock.rotated_at for o in new_refused), default=0.0)
    line(
        f"new-key tokens refused ({len(new):,} sent)",
        f"{len(new_refused)} (last {last:.1f} s after)",
        bool(new) and not late,
        f"none after {window:g} s (one refetch)",
    )
    growth = {}
    for service, workers in after.items():
        for pid, mib in workers.items():
            if pid in before[service]:
                growth[f"{service}/{pid}"] = (before[service][pid], mib)
    worst = max((a / b - 1 for b, a in growth.values()), default=0.0)
    for name, (b, a) in sorted(growth.items()):
        print(f"  RSS {name:40} {b:8.1f} -> {a:8.1f} MiB  ({a / b - 1:+.1%})")
    line("worst worker RSS growth", f"{worst:+.1%}", worst < 0.2, "< +20%")
    print(f"\ntargets {'met' if met else 'MISSED'}; {elapsed:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
