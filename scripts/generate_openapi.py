"""`make openapi`: write openapi/calendar.json and openapi/geocoding.json from the apps.

The documents are built with the default settings (local issuer, default audiences) whatever
the environment says, so the committed files are reproducible; ``--check`` exits 1 when they
differ from what the apps generate (the test suite runs that check).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "openapi"
SPEC_CONFIG = {
    "AUTH_ISSUER": "http://127.0.0.1:8000/",
    "DATABASE_URL": "sqlite://",
}


def _factories() -> dict[str, Callable[[dict[str, Any]], Any]]:
    from calendar_api import create_app as calendar_app
    from geocoding_api import create_app as geocoding_app

    return {"calendar": calendar_app, "geocoding": geocoding_app}


def render(name: str) -> str:
    """The OpenAPI document of one API, as the exact text committed under openapi/."""
    app = _factories()[name](dict(SPEC_CONFIG))
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return json.dumps(api.spec.to_dict(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in _factories():
        path = OUT / f"{name}.json"
        text = render(name)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"openapi/ is out of date ({', '.join(stale)}): run `make openapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
