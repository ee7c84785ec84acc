"""Development server: ``python -m geocoding_api`` serves on 127.0.0.1:$GEOCODING_PORT (8002).

For production use gunicorn with ``geocoding_api.wsgi:app``.
"""

from __future__ import annotations

import logging
import os

from geocoding_api import create_app

DEFAULT_PORT = 8002


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    port = int(os.environ.get("GEOCODING_PORT", DEFAULT_PORT))
    create_app().run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
