"""``python -m ess_accompagnement``: the desktop application."""

from __future__ import annotations

import sys

from ess_accompagnement.app import main

if __name__ == "__main__":
    sys.exit(main())
