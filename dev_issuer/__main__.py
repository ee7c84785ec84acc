"""``python -m dev_issuer``: the same command line as ``dev-issuer``."""

from .cli import main

raise SystemExit(main())
