"""Conditional requests (RFC 9110 section 13): If-Match guards writes, If-None-Match saves reads.

If-Match is **required** on PUT, PATCH and DELETE (428 Precondition Required, RFC 6585,
otherwise). The issue's promise is that concurrent clients never silently overwrite each
other; a client that may skip If-Match can always do exactly that. ``If-Match: *`` remains as
the explicit, visible way to say "whatever is there now".

Entity-tags are compared strongly for If-Match (a weak tag never matches) and weakly for
If-None-Match, as section 13.1 specifies; werkzeug parses the header lists.
"""

from __future__ import annotations

from flask import Response, request
from werkzeug.datastructures import ETags
from werkzeug.http import unquote_etag

from .errors import PreconditionFailed, PreconditionRequired


def request_if_match() -> ETags | None:
    """The request's If-Match list, None when the header is absent (judged once the event is
    found: an id the caller does not have is 404 whatever the headers)."""
    return request.if_match if "If-Match" in request.headers else None


def check_if_match(if_match: ETags | None, current_etag: str) -> None:
    """428 without If-Match; 412 (with the current ETag) unless it is ``*`` or strongly holds
    ``current_etag``."""
    if if_match is None:
        raise PreconditionRequired()
    value, weak = unquote_etag(current_etag)
    if weak or not if_match.contains(value):
        raise PreconditionFailed(current_etag)


def not_modified(current_etag: str) -> Response | None:
    """A bodiless 304 when If-None-Match already holds ``current_etag``, else ``None``."""
    value, _ = unquote_etag(current_etag)
    if request.if_none_match.contains_weak(value):
        return Response(status=304, headers={"ETag": current_etag})
    return None
