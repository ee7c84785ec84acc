"""Notes API: the smallest service in the house, to copy when adding a third API.

One protected resource (each user's notes, scopes ``notes:read`` and ``notes:write``) in
about a hundred lines. Everything else, the error body, the strict parser, security headers,
CORS, request ids and JSON logs, metrics, ``/healthz`` and ``/readyz``, ``/docs``, comes
from ``service_kit`` and ``shared_auth``, and the kit's tests run against this app too
(``tests/service_kit``). Notes live in memory: the point is the shape, not the storage.

    AUTH_ISSUER=http://127.0.0.1:8000/ NOTES_PUBLIC_URL=http://127.0.0.1:8003/notes/v1/ \\
      .venv/bin/gunicorn -b 127.0.0.1:8003 'examples.notes_api:create_app()'
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service_kit import ApiSettings, Blueprint, DocsSignIn, NotFound, ServiceKit, admit, merged_env
from shared_auth import AuthSettings
from shared_auth.flask import BearerAuth, current_principal

AUDIENCE = "https://api.example.com/notes/v1/"
SCOPES = {"notes:read": "Read your notes", "notes:write": "Write your notes"}

kit = ServiceKit("Notes API", "v1")
auth = BearerAuth()
blp = Blueprint("notes", __name__, url_prefix="/notes/v1", description="Each user's own notes")


class NoteSchema(Schema):
    id = fields.String(dump_only=True)
    text = fields.String(required=True, validate=validate.Length(1, 1000))


class NoteQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class NoteStore:
    """Each owner's notes, newest last; a lock, because gunicorn threads share it."""

    def __init__(self) -> None:
        self._notes: dict[str, dict[str, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def add(self, owner: str, text: str) -> dict[str, str]:
        note = {"id": "note_" + secrets.token_urlsafe(12), "text": text}
        with self._lock:
            self._notes.setdefault(owner, {})[note["id"]] = note
        return note

    def list(self, owner: str, limit: int) -> list[dict[str, str]]:
        with self._lock:
            return list(self._notes.get(owner, {}).values())[-limit:]

    def get(self, owner: str, note_id: str) -> dict[str, str]:
        with self._lock:
            note = self._notes.get(owner, {}).get(note_id)
        if note is None:  # someone else's note and a missing one look the same
            raise NotFound("There is no note with this id among your notes")
        return note


def notes() -> NoteStore:
    return current_app.extensions["notes"]


def owner() -> str:
    return current_principal().subject or ""


@blp.route("/notes")
class Notes(MethodView):
    @auth.required("notes:read")
    @blp.arguments(NoteQuerySchema, location="query")
    @blp.response(200, NoteSchema(many=True))
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> Any:
        """List your latest notes"""
        return notes().list(owner(), query["limit"])

    @auth.required("notes:write")
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    @blp.errors(400, 413, 415)
    def post(self, note: dict[str, Any]) -> Any:
        """Write a note"""
        return notes().add(owner(), note["text"])


@blp.route("/notes/<note_id>")
class NoteById(MethodView):
    @auth.required("notes:read")
    @blp.response(200, NoteSchema)
    @blp.errors(404)
    def get(self, note_id: str) -> Any:
        """Read one of your notes"""
        return notes().get(owner(), note_id)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Read settings, install the kit and auth, register the routes: nothing else."""
    env = merged_env(config, os.environ)
    service = ApiSettings.from_env(env, "NOTES")
    audiences = (AUDIENCE, service.public_url) if service.public_url else (AUDIENCE,)
    settings = AuthSettings.from_env(env, audiences=audiences, realm="notes")
    app = Flask(__name__, instance_path=service.instance_path)
    sign_in = DocsSignIn(settings.issuer, "api-docs", tuple(SCOPES))
    kit.init_app(app, service, checks={"signing_keys": auth.signing_keys_check}, sign_in=sign_in)
    auth.init_app(
        app,
        settings,
        scopes=SCOPES,
        grants=("authorization_code",),
        resource=service.public_url,
        admit=admit,
    )
    app.extensions["notes"] = NoteStore()
    kit.register(app, blp)
    return app
