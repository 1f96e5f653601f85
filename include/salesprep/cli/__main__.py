"""`python -m salesprep.cli`: the same as the `salesprep` console script."""

import sys

from salesprep.cli import main

sys.exit(main())
