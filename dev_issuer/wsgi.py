"""WSGI entry point: ``gunicorn 'dev_issuer.wsgi:app'`` (settings from ``DEV_ISSUER_*``)."""

from .app import create_app

app = create_app()
