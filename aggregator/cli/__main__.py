"""`python -m aggregator.cli`: the command line, as `aggregator`."""

import sys

from aggregator.cli import main

sys.exit(main())
