"""Who is calling and what they may do: step 4 of verification, the scope check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InsufficientScope


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller, built from a token that passed steps 1 to 3."""

    subject: str | None
    client_id: str | None
    scopes: frozenset[str]
    claims: Mapping[str, Any]

    @classmethod
    def from_claims(
        cls, claims: Mapping[str, Any], scope_claims: Iterable[str] = ("scope",)
    ) -> Principal:
        """The caller a verified token's claims describe (``client_id``, else ``azp``)."""
        client_id = claims.get("client_id", claims.get("azp"))
        return cls(
            subject=claims.get("sub"),
            client_id=client_id if isinstance(client_id, str) else None,
            scopes=scopes_from_claims(claims, scope_claims),
            claims=claims,
        )

    @property
    def is_client_credentials(self) -> bool:
        """True when no user is behind the token (a machine-to-machine token).

        Auth0 marks these with ``gty: client-credentials`` and ``sub: CLIENT_ID@clients``;
        RFC 9068 issuers set ``sub`` to the client id itself.
        """
        subject = self.subject or ""
        return (
            self.claims.get("gty") == "client-credentials"
            or subject.endswith("@clients")
            or (self.client_id is not None and subject == self.client_id)
        )

    def has_scopes(self, *required: str) -> bool:
        return self.scopes.issuperset(required)


def scopes_from_claims(claims: Mapping[str, Any], sources: Iterable[str]) -> frozenset[str]:
    """Collect scopes from ``scope`` (space-separated string) and ``scp``/``permissions`` lists.

    A claim of the wrong type contributes nothing rather than failing the token: the scope
    check that follows then refuses with 403, which names what was missing.
    """
    found: set[str] = set()
    for name in sources:
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(item for item in value if isinstance(item, str) and item)
    return frozenset(found)


def require_scopes(
    principal: Principal, all_of: Iterable[str] = (), any_of: Iterable[str] = ()
) -> None:
    """Raise 403 ``insufficient_scope`` unless every ``all_of`` and one ``any_of`` scope is held."""
    needed = tuple(all_of)
    alternatives = tuple(any_of)
    missing = tuple(scope for scope in needed if scope not in principal.scopes)
    if missing:
        raise InsufficientScope(
            f"This request needs the scope {' '.join(needed)}", "insufficient_scope", scope=needed
        )
    if alternatives and principal.scopes.isdisjoint(alternatives):
        raise InsufficientScope(
            f"This request needs one of the scopes {' '.join(alternatives)}",
            "insufficient_scope",
            scope=alternatives,
        )
