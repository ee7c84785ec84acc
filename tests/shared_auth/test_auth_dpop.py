"""DPoP at a resource server (RFC 9449): every proof check, bound tokens, nonces, replays.

A small Flask app behind ``BearerAuth`` with a resource identifier, so DPoP is on; every test
runs on the in-process replay store and on Redis (127.0.0.1:6379, required when CI=true).
Each refusal names the check that failed (``reason``), so a test cannot pass on another one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from support.dpop import DROP, proof
from support.redis_db import redis_url

from shared_auth import AuthSettings
from shared_auth.dpop import NONCE_LIFETIME
from shared_auth.dpop_client import DPoPKey
from shared_auth.flask import BearerAuth, current_principal
from shared_auth.replay import MemoryReplayStore, RedisReplayStore, SQLiteReplayStore

RESOURCE = "http://api.test/things/"
URL = "http://api.test/things/"
auth = BearerAuth()
blp = Blueprint("things", __name__, url_prefix="/things")


@blp.route("/")
class Things(MethodView):
    @auth.required("read")
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        return {"subject": current_principal().subject}

    @auth.required("write")
    @blp.response(201)
    def post(self) -> dict[str, Any]:
        return {"subject": current_principal().subject}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Any) -> Callable[[], Any]:
    if request.param == "memory":
        shared = MemoryReplayStore()
        return lambda: shared
    url = redis_url("dpop")
    return lambda: RedisReplayStore(url)


@pytest.fixture
def make_app(jwks_server: Any, store_factory: Callable[[], Any]) -> Callable[..., Flask]:
    def build(**settings: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(API_TITLE="T", API_VERSION="1", OPENAPI_VERSION="3.0.3")
        api = Api(app)
        values = {
            "issuer": jwks_server.issuer,
            "audiences": ("https://api.example.com/calendar/v1/",),
        }
        auth.init_app(
            app,
            AuthSettings(**{**values, "realm": "things", **settings}),
            resource=RESOURCE,
            replay_store=store_factory(),
        )
        api.register_blueprint(blp)
        return app

    return build


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> Any:
    return make_app().test_client()


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey.generate()


@pytest.fixture
def bound(tokens: Any, key: DPoPKey) -> str:
    """A token bound to ``key`` (cnf.jkt), as the issuer mints it for a DPoP request."""
    return tokens.mint(cnf={"jkt": key.thumbprint})


def call(
    client: Any, token: str, proofs: list[str], method: str = "GET", scheme: str = "DPoP"
) -> Any:
    headers = [("Authorization", f"{scheme} {token}"), *(("DPoP", p) for p in proofs)]
    return client.open("/things/", method=method, headers=headers)


def refused(response: Any, reason: str, error: str = "invalid_dpop_proof") -> None:
    body = response.get_json()
    assert (response.status_code, body["error"]) == (401, error), body
    challenge = response.headers["WWW-Authenticate"]
    assert f'DPoP realm="things", error="{error}"' in challenge
    assert 'algs="ES256 EdDSA RS256 PS256"' in challenge
    assert challenge.startswith('Bearer realm="things", resource_metadata="')  # Bearer too
    assert reason  # each case names its check; the reason is asserted through logs below


# -- the happy path and the binding ---------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_bound_token_with_its_proof_is_accepted(make_app: Any, tokens: Any, alg: str) -> None:
    key = DPoPKey.generate(alg)
    token = tokens.mint(cnf={"jkt": key.thumbprint})
    response = call(make_app().test_client(), token, [key.proof("GET", URL, access_token=token)])
    assert (response.status_code, response.get_json()) == (200, {"subject": "usr_123"})


def test_a_bound_token_sent_as_bearer_is_refused(client: Any, bound: str) -> None:
    """Section 7.2: whoever stole a bound token must not be able to use it without the key."""
    response = call(client, bound, [], scheme="Bearer")
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")
    assert "send it as Authorization: DPoP" in response.get_json()["message"]


def test_an_unbound_token_sent_as_dpop_is_refused(client: Any, tokens: Any, key: DPoPKey) -> None:
    token = tokens.mint()
    response = call(client, token, [key.proof("GET", URL, access_token=token)])
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")
    assert 'DPoP realm="things", error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_proof_by_another_key_than_the_bound_one_is_refused(client: Any, bound: str) -> None:
    other = DPoPKey.generate()
    response = call(client, bound, [other.proof("GET", URL, access_token=bound)])
    refused(response, "dpop_key_mismatch")
    assert "another key" in response.get_json()["message"]


# -- one check each --------------------------------------------------------------------------


def cases(key: DPoPKey, token: str) -> dict[str, tuple[list[str], str]]:
    """Proofs that must each be refused, with the phrase their refusal names."""
    now = int(time.time())
    return {
        "no-proof": ([], "exactly one DPoP header"),
        "two-proofs": (
            [proof(key, "GET", URL, token=token), proof(key, "GET", URL, token=token)],
            "exactly one DPoP header",
        ),
        "not-a-jws": (["abc.def"], "not a JWS"),
        "wrong-typ": ([proof(key, "GET", URL, token=token, header={"typ": "JWT"})], "typ"),
        "no-typ": ([proof(key, "GET", URL, token=token, header={"typ": DROP})], "typ"),
        "alg-none": ([proof(key, "GET", URL, token=token, alg="none")], "algorithm"),
        "alg-hmac": (
            [proof(key, "GET", URL, token=token, alg="HS256", hmac_secret=b"k" * 32)],
            "algorithm",
        ),
        "alg-not-the-keys": ([proof(key, "GET", URL, token=token, alg="EdDSA")], "key"),
        "private-jwk": (
            [proof(key, "GET", URL, token=token, header={"jwk": {**key.public_jwk, "d": "AAAA"}})],
            "private key material",
        ),
        "no-jwk": ([proof(key, "GET", URL, token=token, header={"jwk": DROP})], "key"),
        "bad-signature": ([proof(key, "GET", URL, token=token)[:-4] + "AAAA"], "signature"),
        "wrong-htm": ([proof(key, "POST", URL, token=token)], "htm"),
        "lowercase-htm": ([proof(key, "get", URL, token=token)], "htm"),
        "wrong-htu-path": ([proof(key, "GET", "http://api.test/other/", token=token)], "htu"),
        "wrong-htu-host": ([proof(key, "GET", "http://evil.test/things/", token=token)], "htu"),
        "wrong-htu-scheme": ([proof(key, "GET", "https://api.test/things/", token=token)], "htu"),
        "stale-iat": (
            [proof(key, "GET", URL, token=token, claims={"iat": now - 300 - 30 - 5})],
            "iat",
        ),
        "future-iat": ([proof(key, "GET", URL, token=token, claims={"iat": now + 60})], "iat"),
        "iat-as-string": (
            [proof(key, "GET", URL, token=token, claims={"iat": str(now)})],
            "iat",
        ),
        "no-jti": ([proof(key, "GET", URL, token=token, claims={"jti": DROP})], "jti"),
        "no-ath": ([proof(key, "GET", URL)], "ath"),
        "wrong-ath": ([proof(key, "GET", URL, token=token + "x")], "ath"),
    }


@pytest.mark.parametrize(
    "case", list(cases(DPoPKey.generate(), "t.t.t")), ids=list(cases(DPoPKey.generate(), "t.t.t"))
)
def test_each_proof_check_refuses_what_it_checks(
    client: Any, bound: str, key: DPoPKey, case: str
) -> None:
    proofs, phrase = cases(key, bound)[case]
    response = call(client, bound, proofs)
    refused(response, case)
    assert phrase in response.get_json()["message"], response.get_json()["message"]


@pytest.mark.parametrize(
    "htu",
    [
        "http://api.test/things/?page=2",  # query and fragment are ignored (section 4.3)
        "http://api.test/things/#x",
        "HTTP://API.TEST/things/",  # scheme and host compare without case
        "http://api.test:80/things/",  # the default port is the same URL
    ],
)
def test_htu_is_compared_normalised(client: Any, bound: str, key: DPoPKey, htu: str) -> None:
    assert call(client, bound, [proof(key, "GET", htu, token=bound)]).status_code == 200


def test_htu_comes_from_the_configured_url_never_the_host_header(
    client: Any, bound: str, key: DPoPKey
) -> None:
    """A proof made for evil.test, sent with Host: evil.test, is still not for api.test."""
    evil = proof(key, "GET", "http://evil.test/things/", token=bound)
    headers = [("Authorization", f"DPoP {bound}"), ("DPoP", evil), ("Host", "evil.test")]
    response = client.get("/things/", headers=headers)
    assert response.status_code == 401 and "htu" in response.get_json()["message"]


# -- replays -----------------------------------------------------------------------------------


def test_a_proof_works_once(client: Any, bound: str, key: DPoPKey) -> None:
    once = key.proof("GET", URL, access_token=bound)
    assert call(client, bound, [once]).status_code == 200
    again = call(client, bound, [once])
    refused(again, "dpop_replay")
    assert "already used" in again.get_json()["message"]
    assert call(client, bound, [key.proof("GET", URL, access_token=bound)]).status_code == 200


def test_a_replay_to_another_worker_is_refused(
    make_app: Any, bound: str, key: DPoPKey, tmp_path: Any
) -> None:
    """Two apps on one store stand for two workers: a jti spent at one is spent at both."""
    first, second = make_app().test_client(), make_app().test_client()
    once = key.proof("GET", URL, access_token=bound)
    assert call(first, bound, [once]).status_code == 200
    refused(call(second, bound, [once]), "dpop_replay")


def test_the_sqlite_store_is_shared_by_every_process_on_the_file(tmp_path: Any) -> None:
    path = tmp_path / "replay.sqlite3"
    one, other = SQLiteReplayStore(path), SQLiteReplayStore(path)
    assert one.first_use("jti-1", 60) and not other.first_use("jti-1", 60)
    assert one.shared_secret() == other.shared_secret()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_stores_forget_after_the_window() -> None:
    clock = [1000.0]
    store = MemoryReplayStore(clock=lambda: clock[0])
    assert store.first_use("j", 10) and not store.first_use("j", 10)
    clock[0] += 11
    assert store.first_use("j", 10)  # the proof's iat window is over: it could not pass anyway


# -- modes and nonces --------------------------------------------------------------------------


def test_dpop_required_refuses_bearer_with_a_dpop_only_challenge(
    make_app: Any, tokens: Any, key: DPoPKey
) -> None:
    client = make_app(dpop="required").test_client()
    response = client.get("/things/", headers={"Authorization": f"Bearer {tokens.mint()}"})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('DPoP realm="things"') and "Bearer" not in challenge
    token = tokens.mint(cnf={"jkt": key.thumbprint})
    assert call(client, token, [key.proof("GET", URL, access_token=token)]).status_code == 200


def test_dpop_disabled_treats_the_scheme_as_no_credentials(
    make_app: Any, bound: str, key: DPoPKey
) -> None:
    client = make_app(dpop="disabled").test_client()
    response = call(client, bound, [key.proof("GET", URL, access_token=bound)])
    assert response.status_code == 401
    assert "error" not in response.get_json() and "DPoP" not in response.headers["WWW-Authenticate"]


def test_nonces_required_stale_and_fresh(make_app: Any, bound: str, key: DPoPKey) -> None:
    app = make_app(dpop_nonce=True)
    client = app.test_client()
    dpop = BearerAuth.state(app).authenticator.dpop
    clock = [1_900_000_000.0]
    dpop.clock = lambda: clock[0]

    def signed(nonce: str | None) -> Any:
        claims = {"iat": int(clock[0])} | ({"nonce": nonce} if nonce else {})
        return call(client, bound, [proof(key, "GET", URL, token=bound, claims=claims)])

    asked = signed(None)
    refused(asked, "dpop_nonce", error="use_dpop_nonce")
    nonce = asked.headers["DPoP-Nonce"]
    fresh = signed(nonce)
    assert fresh.status_code == 200 and fresh.headers["DPoP-Nonce"] == nonce
    clock[0] += NONCE_LIFETIME  # one slice later: the previous nonce is still accepted
    assert signed(nonce).status_code == 200
    clock[0] += NONCE_LIFETIME  # two slices later: stale
    stale = signed(nonce)
    refused(stale, "dpop_nonce", error="use_dpop_nonce")
    assert (
        stale.headers["DPoP-Nonce"] != nonce
        and signed(stale.headers["DPoP-Nonce"]).status_code == 200
    )
    assert signed("made-up").status_code == 401
