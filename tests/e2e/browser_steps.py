"""Steps the browser tests share: where screenshots go and how a dev user signs in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def sign_in(page: Any, user: str = "usr_123") -> None:
    """Fill the dev issuer's sign-in page (every dev user's password is ``dev-password``)."""
    page.wait_for_selector("#sign-in")
    page.check(f"input[name=user_id][value={user}]")
    page.fill("#password", "dev-password")
    page.click("#sign-in button[type=submit]")
