"""HTTP routes under ``/calendar/v1``: declarative decorators over a few lines each.

Order of decorators matters: ``@auth.required`` sits above flask-smorest's so it runs first,
and a caller without a valid user token learns nothing about schemas or events. The rules
themselves live in ``service.Calendar``; a route reads the request, calls it, and sets
headers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask.views import MethodView

from service_kit import Blueprint
from shared_auth.flask import current_principal

from .auth import auth
from .paging import next_link
from .preconditions import not_modified, request_if_match
from .schemas import (
    EventPageSchema,
    EventPatchSchema,
    EventQuerySchema,
    EventReplaceSchema,
    EventSchema,
    FeedQuerySchema,
)
from .service import Calendar

_HEADER = {"schema": {"type": "string"}}
ETAG = {"ETag": {**_HEADER, "description": "The event's current strong ETag"}}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag you last read, or * (428 when absent, 412 when stale)",
    **_HEADER,
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "description": "304 when it holds the current ETag",
    **_HEADER,
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "description": "1-255 visible ASCII characters: a retry with the same key and body "
    "returns the first answer; the same key with another body is 422",
    **_HEADER,
}

blp = Blueprint(
    "events",
    __name__,
    url_prefix="/calendar/v1",
    description="Each user's own events: read with scope read, change with scope write. "
    "Tokens must stand for a user: a client-credentials token is refused with 403 "
    "invalid_token.",
)


def calendar() -> Calendar:
    return current_app.extensions["calendar"]


def owner() -> str:
    """The caller's user id: the token's ``sub`` (user tokens only, see ``auth``)."""
    return current_principal().subject or ""


@blp.route("/events")
class Events(MethodView):
    @auth.required("read")
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, EventPageSchema, headers={"Link": {**_HEADER, "description": 'rel="next"'}})
    @blp.errors(400, 410)
    def get(self, query: dict[str, Any]) -> Any:
        """List your events by start time, in a window, expanded into instances, or only what
        changed since a sync_token"""
        page = calendar().list(owner(), query)
        headers = {"Link": next_link(page.next_cursor)} if page.next_cursor else {}
        return page, headers

    @auth.required("write")
    @blp.arguments(EventSchema)
    @blp.response(201, EventSchema, headers={**ETAG, "Location": _HEADER})
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @blp.errors(400, 413, 415)
    def post(self, fields: dict[str, Any]) -> Any:
        """Create an event (send Idempotency-Key to make retries safe)"""
        created = calendar().create(owner(), fields, request.headers.get("Idempotency-Key"))
        return jsonify(created.body), 201, created.headers


@blp.route("/events/<event_id>")
class EventById(MethodView):
    @auth.required("read")
    @blp.response(200, EventSchema, headers=ETAG)
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.errors(304, 404)
    def get(self, event_id: str) -> Any:
        """Read one event; If-None-Match answers 304 while it is unchanged"""
        event = calendar().get(owner(), event_id)
        unchanged = not_modified(event.etag)
        return unchanged if unchanged is not None else (event, {"ETag": event.etag})

    @auth.required("write")
    @blp.arguments(EventReplaceSchema)
    @blp.response(200, EventSchema, headers=ETAG)
    @blp.doc(parameters=[IF_MATCH])
    @blp.errors(404, 412, 413, 415, 428)
    def put(self, fields: dict[str, Any], event_id: str) -> Any:
        """Replace an event (If-Match required)"""
        event = calendar().replace(owner(), event_id, fields, request_if_match())
        return event, {"ETag": event.etag}

    @auth.required("write")
    @blp.arguments(EventPatchSchema)
    @blp.response(200, EventSchema, headers=ETAG)
    @blp.doc(parameters=[IF_MATCH])
    @blp.errors(404, 412, 413, 415, 428)
    def patch(self, changes: dict[str, Any], event_id: str) -> Any:
        """Change some fields of an event (If-Match required); null clears optional ones"""
        event = calendar().patch(owner(), event_id, changes, request_if_match())
        return event, {"ETag": event.etag}

    @auth.required("write")
    @blp.response(204)
    @blp.doc(parameters=[IF_MATCH])
    @blp.errors(404, 412, 428)
    def delete(self, event_id: str) -> Any:
        """Delete an event (If-Match required)"""
        calendar().delete(owner(), event_id, request_if_match())
        return Response(status=204)


@blp.route("/events.ics")
class EventsIcs(MethodView):
    @auth.required("read")
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/calendar", description="RFC 5545")
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.errors(304, 400)
    def get(self, query: dict[str, Any]) -> Any:
        """Your events as an iCalendar (RFC 5545) file for calendar applications"""
        export = calendar().export(owner(), query)
        if request.if_none_match.contains_weak(export.etag):
            export.close()
            return Response(status=304, headers={"ETag": f'W/"{export.etag}"'})
        # Not make_conditional: it would buffer the whole stream to count its length.
        response = Response(export.chunks, mimetype="text/calendar")
        response.call_on_close(export.close)
        response.headers["Content-Disposition"] = 'attachment; filename="calendar.ics"'
        response.set_etag(export.etag, weak=True)
        return response
