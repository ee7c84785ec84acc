"""The geocoding API's ``auth`` and its one scope.

Machine-to-machine callers hold a client-credentials token for this API with scope
``geocode``; a user's token with that audience and scope is accepted too (a person using a
tool). The scope is part of the API's contract, declared on the routes and in the OpenAPI
document, not a deployment setting.
"""

from __future__ import annotations

from shared_auth.flask import BearerAuth

SCOPE = "geocode"
SCOPES = {SCOPE: "Geocode points and search places"}

auth = BearerAuth()
"""``create_app`` calls ``auth.init_app``."""
