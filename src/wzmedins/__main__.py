"""``python -m wzmedins``: the command line of :mod:`wzmedins.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
