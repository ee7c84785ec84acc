"""Per-token cost of verifying an access token with keys cached, against a floor and peers.

Run: ``.venv/bin/python bench/verify.py`` (about 20 s; options: ``--rounds``, ``--calls``).

The floor is the least any correct verifier must do: base64url-decode and ``json.loads``
the header and payload, one ``cryptography`` RSA-2048 PKCS#1 v1.5/SHA-256 verify, and the
``exp``/``iss``/``aud`` comparisons. Every contender verifies the same token in the same run,
with the same rules (RS256 only, exp required, iss exact, our audience, 30 s leeway); keys
come from a real JWKS server on 127.0.0.1 started here, fetched once before timing.

``shared_auth`` is measured with its verified-token cache off (every call verifies in full)
and, as ``shared_auth, token again``, with it on: the same token again, as clients send it.

Timing: the contenders take turns within each round (so machine noise hits them alike);
each call is timed on its own, a round's figure is the median call, and the result is the
best round. Ratios are against the floor measured the same way.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared_auth import AuthSettings, JWKSCache, TokenVerifier

AUD = "https://api.example.com/calendar/v1/"
KID = "bench-key"
LEEWAY = 30
BUDGET_SECONDS = 50.0
CACHED = "shared_auth, token again"
CACHED_TARGET = 0.1
"""A repeated token (``AUTH_TOKEN_CACHE_SIZE``, on by default) against the RSA floor."""


def serve_jwks(jwk: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    """Discovery and JWKS on a loopback port; returns the server and the issuer URL."""
    holder: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            documents = {
                "/.well-known/openid-configuration": {
                    "issuer": holder["issuer"],
                    "jwks_uri": f"{holder['issuer']}.well-known/jwks.json",
                },
                "/.well-known/jwks.json": {"keys": [jwk]},
            }
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["issuer"] = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, holder["issuer"]


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def floor_verifier(public_key: rsa.RSAPublicKey, issuer: str) -> Callable[[str], Any]:
    """The bare minimum: decode, one RSA verify, three claim comparisons. Not a real verifier."""
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def verify(token: str) -> Any:
        head, body, signature = token.split(".")
        header = json.loads(_b64(head))
        claims = json.loads(_b64(body))
        public_key.verify(_b64(signature), f"{head}.{body}".encode(), pkcs1, sha256)
        aud = claims["aud"]
        if (
            header["alg"] != "RS256"
            or time.time() > claims["exp"] + LEEWAY
            or claims["iss"] != issuer
            or (aud != AUD and AUD not in aud)
        ):
            raise ValueError("invalid")
        return claims

    return verify


def contenders(issuer: str, public_key: rsa.RSAPublicKey, jwk: dict) -> dict[str, Callable]:
    settings = AuthSettings(issuer=issuer, audiences=(AUD,), leeway=LEEWAY, token_cache_size=0)
    ours = TokenVerifier(settings, JWKSCache(settings))
    ours.keys.refresh()
    cached_settings = AuthSettings(issuer=issuer, audiences=(AUD,), leeway=LEEWAY)
    remembered = TokenVerifier(cached_settings, JWKSCache(cached_settings))
    remembered.keys.refresh()

    decode_options = {"require": ["exp", "iss", "aud"]}

    def pyjwt(token: str) -> Any:
        return jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=AUD,
            issuer=issuer,
            leeway=LEEWAY,
            options=decode_options,
        )

    jwks_client = jwt.PyJWKClient(f"{issuer}.well-known/jwks.json", timeout=5)

    def pyjwkclient(token: str) -> Any:
        key = jwks_client.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=AUD,
            issuer=issuer,
            leeway=LEEWAY,
            options=decode_options,
        )

    from authlib.deprecate import AuthlibDeprecationWarning  # installs an "always" filter

    with warnings.catch_warnings():  # authlib.jose announces its move to joserfc
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.jose import JsonWebKey, JsonWebToken

    authlib_jwt = JsonWebToken(["RS256"])
    authlib_key = JsonWebKey.import_key(jwk)
    authlib_options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": AUD},
        "exp": {"essential": True},
    }

    def authlib(token: str) -> Any:
        claims = authlib_jwt.decode(token, authlib_key, claims_options=authlib_options)
        claims.validate(leeway=LEEWAY)
        return claims

    from joserfc import jwt as joserfc_jwt
    from joserfc.jwk import RSAKey

    joserfc_key = RSAKey.import_key(jwk)
    joserfc_claims = joserfc_jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": AUD},
        exp={"essential": True},
    )

    def joserfc(token: str) -> Any:
        result = joserfc_jwt.decode(token, joserfc_key, algorithms=["RS256"])
        joserfc_claims.validate(result.claims)
        return result.claims

    return {
        "floor": floor_verifier(public_key, issuer),
        "shared_auth": ours.verify,
        CACHED: remembered.verify,
        "PyJWT jwt.decode": pyjwt,
        "PyJWKClient + decode": pyjwkclient,
        "Authlib (authlib.jose)": authlib,
        "joserfc": joserfc,
    }


def check_all(funcs: dict[str, Callable], good: str, forged: str) -> None:
    """Each contender must accept the token and refuse a forged one, or the timing is moot."""
    for name, func in funcs.items():
        func(good)
        try:
            func(forged)
        except Exception:  # noqa: S112 - every library has its own exception type
            continue
        raise SystemExit(f"{name} accepted a forged token; the benchmark would be meaningless")


def measure(funcs: dict[str, Callable], token: str, rounds: int, calls: int) -> dict[str, float]:
    clock = time.perf_counter_ns
    best = dict.fromkeys(funcs, float("inf"))
    started = time.monotonic()
    for func in funcs.values():  # warm-up: caches, lazy imports, branch predictors
        for _ in range(max(50, calls // 10)):
            func(token)
    for _ in range(rounds):
        for name, func in funcs.items():
            samples = []
            for _ in range(calls):
                t0 = clock()
                func(token)
                samples.append(clock() - t0)
            best[name] = min(best[name], statistics.median(samples) / 1000)
        if time.monotonic() - started > BUDGET_SECONDS:
            print(f"(stopped early: time budget of {BUDGET_SECONDS:.0f} s)", file=sys.stderr)
            break
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=1500)
    args = parser.parse_args()

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = private_key.public_key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    jwk.update(kid=KID, use="sig", alg="RS256")
    server, issuer = serve_jwks(jwk)
    try:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": "usr_123",
            "aud": [AUD, f"{issuer}userinfo"],
            "iat": now,
            "exp": now + 3600,
            "azp": "demo-spa",
            "scope": "openid read write",
        }
        token = jwt.encode(claims, private_key, "RS256", headers={"kid": KID})
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other, "RS256", headers={"kid": KID})
        funcs = contenders(issuer, public_key, jwk)
        check_all(funcs, token, forged)
        started = time.monotonic()
        results = measure(funcs, token, args.rounds, args.calls)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()

    floor = results["floor"]
    print(
        f"Per-token verification, keys cached; RS256/RSA-2048, token {len(token)} bytes; "
        f"best of {args.rounds} rounds x {args.calls} calls, median call ({elapsed:.1f} s)"
    )
    print(
        f"Python {platform.python_version()}, cryptography {version('cryptography')}, "
        f"PyJWT {version('PyJWT')}, Authlib {version('authlib')}, joserfc {version('joserfc')}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'verifier':<24} {'µs/token':>9} {'vs floor':>9}")
    for name, micros in results.items():
        target = ""
        if name == CACHED:
            met = micros / floor <= CACHED_TARGET
            target = f"   target <={CACHED_TARGET}x {'ok' if met else 'MISSED'}"
        print(f"{name:<24} {micros:>9.2f} {micros / floor:>8.2f}x{target}")


if __name__ == "__main__":
    main()
