"""``python -m bgfetch``: the ``bgfetch`` command."""

import sys

from bgfetch.cli import main

sys.exit(main())
