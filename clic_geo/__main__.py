"""``python -m clic_geo`` runs the command line."""

import sys

from clic_geo.cli import main

sys.exit(main())
