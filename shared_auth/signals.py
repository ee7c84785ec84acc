"""What shared_auth announces, for metrics and logs that live elsewhere (``service_kit``).

Blinker signals (the library Flask's own signals use) keep the auth core free of any metrics
or logging framework: a subscriber counts what it likes, and nothing runs when nobody listens.

* ``jwks_fetched(cache, outcome="ok"|"failed", keys=int, seconds=float)``: one key set fetch.
* ``token_accepted(sender, principal=Principal)``: a request's token passed every check.
* ``token_rejected(sender, error=AuthError)``: a request was refused; ``error.reason`` says
  which check failed, ``error.error`` the RFC 6750 code.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

jwks_fetched = _signals.signal("jwks-fetched")
token_accepted = _signals.signal("token-accepted")
token_rejected = _signals.signal("token-rejected")
