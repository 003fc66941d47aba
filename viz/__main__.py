"""`python -m viz ...` is the `dagrad` command."""

import sys

from viz.cli import main

sys.exit(main())
