"""``python -m lifecircle`` runs the command line."""

import sys

from lifecircle.planning.cli import main

sys.exit(main())
