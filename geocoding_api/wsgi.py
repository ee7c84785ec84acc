"""WSGI entry point: ``gunicorn -b 127.0.0.1:8002 'geocoding_api.wsgi:app'``.

The place data is loaded here, at import, so a worker that cannot load it fails to boot with
the ``DataError`` message instead of failing requests later. With ``--preload`` the workers
share the loaded index pages copy-on-write.
"""

from geocoding_api import create_app
from service_kit import configure_json_logging

configure_json_logging()
app = create_app()
