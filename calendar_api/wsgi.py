"""WSGI entry point: ``gunicorn --threads 8 -b 127.0.0.1:8001 'calendar_api.wsgi:app'``.

``python -m calendar_api.wsgi`` runs the same app on werkzeug's threaded development server at
127.0.0.1:``CALENDAR_PORT`` (default 8001), for local use without gunicorn.
"""

from __future__ import annotations

import os

from service_kit import configure_json_logging

from . import create_app

configure_json_logging()
app = create_app()


def main() -> None:
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", int(os.environ.get("CALENDAR_PORT", "8001")), app, threaded=True)


if __name__ == "__main__":
    main()
