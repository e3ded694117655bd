"""``python -m app.cli``: the same as the ``schoolplan`` script."""

import sys

from app.cli import main

sys.exit(main())
