"""``python -m lrkit``."""

import sys

from .cli import main

sys.exit(main())
