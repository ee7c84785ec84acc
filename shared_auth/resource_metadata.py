"""RFC 9728 protected-resource metadata: how a client that knows only an API learns the rest.

The metadata URL inserts ``/.well-known/oauth-protected-resource`` between the host and the
resource identifier's path (section 3.1): ``http://127.0.0.1:8001/calendar/v1/`` ->
``http://127.0.0.1:8001/.well-known/oauth-protected-resource/calendar/v1/``. The document's
``resource`` is that identifier, character for character (section 3.3: a client must refuse
anything else), and the identifier comes from configuration, never from a request's ``Host``.
Every 401 and 403 names the URL (``resource_metadata``, section 5.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .config import AuthSettings

WELL_KNOWN = "/.well-known/oauth-protected-resource"
CACHE_CONTROL = "public, max-age=3600"


def metadata_path(resource: str) -> str:
    """The metadata's path on the API's own host (a bare host's ``/`` is dropped)."""
    path = urlsplit(resource).path
    return WELL_KNOWN if path in ("", "/") else WELL_KNOWN + path


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def metadata_url(resource: str) -> str:
    return origin(resource) + metadata_path(resource)


def metadata(
    settings: AuthSettings,
    resource: str,
    scopes: Iterable[str],
    *,
    documentation: str | None = None,
    dpop: bool = False,
) -> dict[str, Any]:
    """The document (section 2); ``dpop`` says whether DPoP proofs are accepted at all."""
    document: dict[str, Any] = {
        "resource": resource,
        "authorization_servers": [settings.issuer],
        "scopes_supported": list(scopes),
        "bearer_methods_supported": ["header", "body"]
        + (["query"] if settings.allow_query_token else []),
    }
    if documentation:
        document["resource_documentation"] = documentation
    if dpop:
        document["dpop_signing_alg_values_supported"] = list(settings.dpop_algorithms)
    document["dpop_bound_access_tokens_required"] = settings.dpop == "required"
    return document
