"""WSGI entry point: ``gunicorn 'dev_issuer.wsgi:app'`` (settings from ``DEV_ISSUER_*``)."""

from service_kit import configure_json_logging

from .app import create_app

configure_json_logging()
app = create_app()
