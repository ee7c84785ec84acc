"""Signing keys: created once with owner-only files, kept across restarts, rotated with grace."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import jwt
import pytest
from flask.testing import FlaskClient
from issuer_testkit import GEOCODING, ISSUER, decode, jwks_of

from dev_issuer import create_app
from dev_issuer.keys import KeyStore, KeyStoreError
from dev_issuer.settings import Settings

GEO = {
    "grant_type": "client_credentials",
    "client_id": "geo-backend",
    "client_secret": "geo-backend-secret",
    "audience": GEOCODING,
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def machine_token(client: FlaskClient) -> str:
    return client.post("/oauth/token", json=GEO).get_json()["access_token"]


def test_first_start_creates_owner_only_files_that_survive_a_restart(tmp_path: Path) -> None:
    keys_dir = tmp_path / "fresh" / "dev_issuer"
    config = {"DEV_ISSUER_KEYS_DIR": str(keys_dir), "DEV_ISSUER_URL": ISSUER}
    old_umask = os.umask(0o022)  # one that would leave files world-readable
    try:
        first = create_app(config).test_client()
    finally:
        os.umask(old_umask)
    private_keys = list(keys_dir.glob("signing-*.pem"))
    assert len(private_keys) == 1
    assert mode(private_keys[0]) == 0o600
    assert mode(keys_dir / "session-secret") == 0o600
    assert mode(keys_dir / "keys.json") == 0o600
    assert mode(keys_dir / "state.sqlite3") == 0o600  # consent and hashed codes
    assert mode(keys_dir / ".lock") == 0o600
    assert mode(keys_dir) == 0o700
    assert b"PRIVATE KEY" in private_keys[0].read_bytes()
    token = machine_token(first)

    second = create_app(config).test_client()  # a restart
    assert list(keys_dir.glob("signing-*.pem")) == private_keys
    assert jwks_of(first).keys[0].key_id == jwks_of(second).keys[0].key_id
    assert decode(second, token, GEOCODING)["sub"] == "geo-backend@clients"


def test_jwks_publishes_public_keys_only(client: FlaskClient) -> None:
    document = client.get("/.well-known/jwks.json").get_json()
    assert len(document["keys"]) == 1
    key = document["keys"][0]
    assert set(key) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")


def test_default_key_folder_is_inside_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({}, tmp_path / "instance")
    assert settings.keys_dir == tmp_path / "instance" / "dev_issuer"


def test_rotation_keeps_the_old_key_published_so_old_tokens_verify(
    client: FlaskClient, issuer_dir: Path
) -> None:
    old_token = machine_token(client)
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    new, retired = KeyStore(issuer_dir).rotate(grace=3600)  # what `rotate-keys` does

    kids = [key.key_id for key in jwks_of(client).keys]  # the running app, no restart
    assert kids == [new.kid, old_kid]
    assert retired.kid == old_kid
    assert decode(client, old_token, GEOCODING)["sub"] == "geo-backend@clients"
    new_token = machine_token(client)
    assert jwt.get_unverified_header(new_token)["kid"] == new.kid
    assert decode(client, new_token, GEOCODING)
    assert not (issuer_dir / f"signing-{old_kid}.pem").exists(), "old private key deleted"


def test_retired_key_leaves_the_jwks_after_its_grace_period(issuer_dir: Path) -> None:
    store = KeyStore(issuer_dir)
    old_kid = store.current().kid
    store.rotate(grace=600)
    later = KeyStore(issuer_dir, clock=lambda: time.time() + 601)
    assert [key["kid"] for key in later.jwks()["keys"]] == [later.current().kid]
    assert old_kid not in json.dumps(later.jwks())


def test_grace_zero_drops_the_old_key_at_once(issuer_dir: Path) -> None:
    store = KeyStore(issuer_dir)
    new, _ = store.rotate(grace=0)
    assert [key["kid"] for key in store.jwks()["keys"]] == [new.kid]


def test_a_second_rotation_keeps_both_older_keys_in_grace(issuer_dir: Path) -> None:
    store = KeyStore(issuer_dir)
    first = store.current().kid
    second, _ = store.rotate(grace=600)
    third, _ = store.rotate(grace=600)
    assert [key["kid"] for key in store.jwks()["keys"]] == [third.kid, first, second.kid]


def test_loosened_private_key_mode_is_tightened(issuer_dir: Path) -> None:
    key_file = next(issuer_dir.glob("signing-*.pem"))
    key_file.chmod(0o644)
    KeyStore(issuer_dir)
    assert mode(key_file) == 0o600


def test_damaged_key_files_fail_with_the_path_and_the_fix(issuer_dir: Path) -> None:
    (issuer_dir / "keys.json").write_text("{not json")
    with pytest.raises(KeyStoreError, match=r"keys\.json is damaged; delete the folder"):
        KeyStore(issuer_dir)
    (issuer_dir / "keys.json").write_text(json.dumps({"current": "../../etc", "retired": []}))
    with pytest.raises(KeyStoreError, match="damaged"):
        KeyStore(issuer_dir)


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    directory = tmp_path / "race"
    kids: list[str] = []

    def start() -> None:
        kids.append(KeyStore(directory).current().kid)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kids) == 4 and len(set(kids)) == 1
    assert len(list(directory.glob("signing-*.pem"))) == 1
