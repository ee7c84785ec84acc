"""CORS through flask-cors, for the browser origins a service lists and for no one else.

Every service takes the same setting, ``{PREFIX}_CORS_ORIGINS`` (space or comma separated
``https://host[:port]`` values, ``*`` for any, empty for none):

* preflights from a listed origin are answered before any view or auth runs (browsers never
  send credentials on a preflight) with the methods and request headers the service allows;
* actual responses to a listed origin name it and expose the headers a client needs;
* unknown origins get no CORS header at all, so the browser keeps the response from them;
* ``Vary: Origin`` on every response, so a cache never hands one origin's answer to another;
* no ``Allow-Credentials``: the services read tokens from headers, never cookies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask, Response
from flask_cors import CORS

MAX_AGE_SECONDS = 600
ALWAYS_EXPOSED = ("WWW-Authenticate", "Retry-After", "X-Request-ID", "DPoP-Nonce")


def init_cors(
    app: Flask,
    resources: Mapping[str, Iterable[str]],
    *,
    methods: Iterable[str],
    allow_headers: Iterable[str] = ("Authorization", "Content-Type"),
    expose_headers: Iterable[str] = (),
) -> None:
    """Allow each path pattern of ``resources`` (a flask-cors regex) for its origins."""
    configured = {path: list(origins) for path, origins in resources.items() if origins}
    if not configured:
        return
    CORS(
        app,
        resources={
            path: {"origins": "*" if "*" in origins else origins}
            for path, origins in configured.items()
        },
        methods=list(methods),
        allow_headers=list(allow_headers),
        expose_headers=[*expose_headers, *ALWAYS_EXPOSED],
        max_age=MAX_AGE_SECONDS,
        supports_credentials=False,
        always_send=False,  # no Origin, no CORS headers: not a browser's cross-origin call
    )

    @app.after_request
    def _vary_on_origin(response: Response) -> Response:
        response.vary.add("Origin")
        return response
