"""What authentication costs per HTTP request, under gunicorn as ``make run`` starts it.

(Not ``http.py``: a script's folder comes first on ``sys.path``, and an ``http.py`` there would
stand in for the standard library's ``http`` in every script in ``bench/``.)

Run: ``.venv/bin/python bench/http_auth.py`` (about 3 minutes; needs ``wrk``, which ``make bench``
installs like ``make test`` installs Chromium). Options: ``--seconds``, ``--rounds``.

Each API (geocoding ``GET /geocoding/v1/reverse``, calendar ``GET /calendar/v1/events``) runs
three ways at once on loopback ports, each exactly as ``make run`` starts it:

* ``auth off``: ``bench/auth_off.py``, the same app with token verification replaced by a
  fixed caller (bench-only: no setting can do this);
* ``auth on, one token``: the real app, one token reused by every request, as clients do;
* ``auth on, fresh tokens``: 2,000 distinct tokens in turn (``bench/fresh_tokens.lua``) and the
  verified-token cache set to half of that (``AUTH_TOKEN_CACHE_SIZE=1000``), so every request
  misses it and is verified in full, as never-repeated tokens would be.

``wrk -t2 -c8`` drives each after a warm-up, the three taking turns, ``--rounds`` times;
figures are medians over rounds (a round whose connections all landed on one worker is run
again, see ``BALANCED``). Wall-clock requests per second swing on a shared machine,
so the server CPU time per request (the gunicorn workers' user + system time, from /proc)
is printed beside them, and the targets are judged on it: capacity relative to auth off,
one token >= 0.95x, fresh tokens >= 0.75x, on both APIs. Any non-2xx answer fails the run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from suite import Server, mint_client_tokens, mint_user_tokens, suite

HERE = Path(__file__).resolve().parent
TOKENS = 2000
BALANCED = 0.3
"""A round counts when every worker did at least this share of the work. wrk's 8 keep-alive
connections now and then all land on one of gunicorn's 2 workers (the accept race): that
worker's threads then fight over one GIL, and the round measures that, not authentication."""
RETRIES = 4
TARGETS = {"auth on, one token": 0.95, "auth on, fresh tokens": 0.75}
APIS = {
    "geocoding": ("geocoding_api", "/geocoding/v1/reverse?lat=37.3861&lon=-122.0839"),
    "calendar": ("calendar_api", "/calendar/v1/events?limit=10"),
}


@dataclass(frozen=True)
class Run:
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    """Server CPU per request, microseconds."""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def drive(
    server: Server, path: str, seconds: float, *, token: str | None, pool: Path | None
) -> Run:
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    if pool is not None:
        command += ["-s", str(HERE / "fresh_tokens.lua")]
    elif token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    command.append(server.url + path)
    if pool is not None:
        command += ["--", str(pool)]
    for _ in range(RETRIES):
        before = server.cpu_seconds()
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        after = server.cpu_seconds()
        shares = [after[pid] - before.get(pid, 0.0) for pid in after]
        spent = sum(shares)
        if min(shares) >= BALANCED * spent:
            break  # else wrk's connections piled onto one worker: the round says nothing
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"{server.name}: errors under load:\n{out}")
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    return Run(
        requests_done,
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        _ms(latency["50"]),
        _ms(latency["99"]),
        spent / max(requests_done, 1) * 1e6,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--apis", default=",".join(APIS), help="geocoding,calendar")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: make bench installs it (apt-get install wrk)")
        return 2
    began = time.monotonic()
    met = True
    with tempfile.TemporaryDirectory() as scratch, suite(Path(scratch) / "suite") as running:
        issuer = running.issuer_app()
        for api in args.apis.split(","):
            service, path = APIS[api]
            mint = mint_client_tokens if api == "geocoding" else mint_user_tokens
            tokens = mint(issuer, TOKENS)
            pool = Path(scratch) / f"{api}-tokens.txt"
            pool.write_text("\n".join(tokens) + "\n")
            variants = {
                "auth off": running.start(service, wsgi=f"auth_off:{api}()"),
                "auth on, one token": running.start(service),
                "auth on, fresh tokens": running.start(
                    service, extra={"AUTH_TOKEN_CACHE_SIZE": str(TOKENS // 2)}
                ),
            }
            feeds = {
                "auth off": (tokens[0], None),  # the same bytes on the wire, ignored
                "auth on, one token": (tokens[0], None),
                "auth on, fresh tokens": (None, pool),
            }
            for name, server in variants.items():  # warm-up: caches, keys, JIT-free but hot
                drive(server, path, 2, token=feeds[name][0], pool=feeds[name][1])
            runs: dict[str, list[Run]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, server in variants.items():
                    token, tokens_file = feeds[name]
                    runs[name].append(
                        drive(server, path, args.seconds, token=token, pool=tokens_file)
                    )
            met &= report(api, path, runs)
            for server in variants.values():
                running.stop(server)
    print(f"\ntargets {'met' if met else 'MISSED'}; {time.monotonic() - began:.0f} s in all")
    return 0


def report(api: str, path: str, runs: dict[str, list[Run]]) -> bool:
    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs[name])

    base_rps, base_cpu = median("auth off", "per_second"), median("auth off", "cpu_us")
    print(f"\n{api}: GET {path}, wrk -t2 -c8, median of {len(runs['auth off'])} rounds")
    print(
        f"{'':24}{'req/s':>9}{'vs off':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'CPU µs/req':>12}{'capacity vs off':>17}  target"
    )
    met = True
    for name in runs:
        rps, cpu = median(name, "per_second"), median(name, "cpu_us")
        capacity = base_cpu / cpu
        verdict = ""
        if name in TARGETS:
            ok = capacity >= TARGETS[name]
            met &= ok
            verdict = f">={TARGETS[name]}x {'ok' if ok else 'MISSED'}"
        print(
            f"{name:24}{rps:>9,.0f}{rps / base_rps:>7.2f}x{median(name, 'p50_ms'):>8.2f}"
            f"{median(name, 'p99_ms'):>8.2f}{cpu:>12.0f}{capacity:>16.2f}x  {verdict}"
        )
    return met


if __name__ == "__main__":
    sys.exit(main())
