import sys

from ess_accompagnement.cli import main

sys.exit(main())
