"""python -m gan.hub: see gan.hub.cli."""

import sys

from gan.errors import run_cli
from gan.hub.cli import main

sys.exit(run_cli(main))
