"""Against the suite as `make run` starts it: discovery from a 401, and DPoP end to end.

* A client that knows only an API's URL and its client credentials learns everything else
  from the API (RFC 9728), then from the issuer (RFC 8414), asks for a token with
  ``resource=`` (RFC 8707) and calls the API, for both APIs.
* DPoP-bound tokens from the local issuer work at both APIs, through our client helper and
  through ``requests-oauth2client``, an independent implementation; a proof replayed to any
  of gunicorn's workers is refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from requests_oauth2client import OAuth2Client

from shared_auth.dpop_client import DPoPKey

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def discover(api_url: str) -> dict[str, Any]:
    """Everything a client needs, learnt from the API alone, checked as RFC 9728 says."""
    refused = requests.get(api_url, timeout=10)
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert "error=" not in challenge
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge).group(1)
    metadata = requests.get(metadata_url, timeout=10).json()
    # Section 3.3: the resource is the identifier the metadata URL was built from.
    parts = urlsplit(metadata_url)
    built_from = f"{parts.scheme}://{parts.netloc}{parts.path.removeprefix('/.well-known/oauth-protected-resource')}"
    assert metadata["resource"] == built_from
    assert api_url.startswith(metadata["resource"])
    issuer = metadata["authorization_servers"][0]
    server = requests.get(
        f"{issuer.rstrip('/')}/.well-known/oauth-authorization-server", timeout=10
    )
    server_metadata = server.json()
    assert server_metadata["issuer"] == issuer
    scope = re.search(r'scope="([^"]+)"', challenge).group(1)
    return {"resource": metadata["resource"], "scope": scope, **server_metadata}


def user_code(found: dict[str, Any], client_id: str, redirect_uri: str, verifier: str) -> str:
    """The authorization code flow's browser part, played over HTTP: sign in, consent."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "resource": found["resource"],
            "scope": found["scope"],
            "state": "s",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    url = f"{found['authorization_endpoint']}?{query}"
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        form = {"csrf": CSRF.search(page.text).group(1), "action": "sign_in"}
        page = browser.post(
            url,
            data={**form, "user_id": "usr_123", "password": "dev-password"},
            allow_redirects=False,
            timeout=10,
        )
        if page.status_code == 200:  # the consent page (consent not given before)
            form = {"csrf": CSRF.search(page.text).group(1), "action": "consent"}
            page = browser.post(
                url, data={**form, "decision": "allow"}, allow_redirects=False, timeout=10
            )
        location = page.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


def test_a_client_that_knows_only_the_geocoding_url_gets_in(suite: Any) -> None:
    api_url = f"{suite.geocoding}/geocoding/v1/reverse?lat=48.8566&lon=2.3522"
    found = discover(api_url)
    token = requests.post(
        found["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": found["resource"]},
        auth=("geo-backend", "geo-backend-secret"),
        timeout=10,
    ).json()["access_token"]
    answer = requests.get(api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["place"]["name"] == "Paris"


def test_a_client_that_knows_only_the_calendar_url_gets_in(suite: Any) -> None:
    """The calendar holds users' data: its client signs a user in (code + PKCE)."""
    api_url = f"{suite.calendar}/calendar/v1/events"
    found = discover(api_url)
    redirect_uri = f"{suite.issuer}/demo/"
    verifier = secrets.token_urlsafe(48)
    code = user_code(found, "demo-spa", redirect_uri, verifier)
    token = requests.post(
        found["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": "demo-spa",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "resource": found["resource"],
        },
        timeout=10,
    ).json()["access_token"]
    answer = requests.get(api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text


# -- DPoP ------------------------------------------------------------------------------------


@pytest.fixture
def geocoding(suite: Any) -> dict[str, str]:
    return {
        "url": f"{suite.geocoding}/geocoding/v1/reverse",
        "resource": f"{suite.geocoding}/geocoding/v1/",
        "token_endpoint": f"{suite.issuer}/oauth/token",
    }


def test_our_client_helper_gets_and_uses_a_bound_token(geocoding: dict[str, str]) -> None:
    key = DPoPKey.generate()
    issued = requests.post(
        geocoding["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": geocoding["resource"]},
        auth=("geo-backend", "geo-backend-secret"),
        headers={"DPoP": key.proof("POST", geocoding["token_endpoint"])},
        timeout=10,
    ).json()
    assert issued["token_type"] == "DPoP"
    token, url = issued["access_token"], geocoding["url"] + "?lat=1&lon=2"
    proof = key.proof("GET", url, access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    stolen = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert stolen.status_code == 401  # a bound token without its key is useless


def test_a_replayed_proof_is_refused_by_every_worker(geocoding: dict[str, str]) -> None:
    key = DPoPKey.generate()
    token = requests.post(
        geocoding["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": geocoding["resource"]},
        auth=("geo-backend", "geo-backend-secret"),
        headers={"DPoP": key.proof("POST", geocoding["token_endpoint"])},
        timeout=10,
    ).json()["access_token"]
    url = geocoding["url"] + "?lat=1&lon=2"
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof("GET", url, access_token=token),
        "Connection": "close",  # a new connection each time: gunicorn spreads them
    }
    statuses = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(12)]
    assert statuses == [200] + [401] * 11


@pytest.mark.parametrize("api", ["geocoding", "calendar"])
def test_requests_oauth2client_interoperates(suite: Any, api: str) -> None:
    """An independent DPoP client (requests-oauth2client): its proofs, our checks."""
    token_endpoint = f"{suite.issuer}/oauth/token"
    if api == "geocoding":
        client = OAuth2Client(
            token_endpoint=token_endpoint,
            client_id="geo-backend",
            client_secret="geo-backend-secret",
            dpop_bound_access_tokens=True,
            testing=True,  # plain http on 127.0.0.1
        )
        token = client.client_credentials(resource=f"{suite.geocoding}/geocoding/v1/")
        url = f"{suite.geocoding}/geocoding/v1/reverse?lat=37.3861&lon=-122.0839"
    else:
        found = discover(f"{suite.calendar}/calendar/v1/events")
        verifier = secrets.token_urlsafe(48)
        redirect_uri = f"{suite.issuer}/demo/"
        code = user_code(found, "demo-spa", redirect_uri, verifier)
        client = OAuth2Client(token_endpoint=token_endpoint, client_id="demo-spa", testing=True)
        token = client.authorization_code(
            code, dpop=True, redirect_uri=redirect_uri, code_verifier=verifier
        )
        url = f"{suite.calendar}/calendar/v1/events"
    assert token.token_type == "DPoP"
    for _ in range(2):  # a fresh proof each call
        assert requests.get(url, auth=token, timeout=10).status_code == 200
