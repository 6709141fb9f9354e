"""`python -m aggregator`: the command line (aggregator.cli), its exit code the process's."""

import sys

from aggregator.cli import main

sys.exit(main())
