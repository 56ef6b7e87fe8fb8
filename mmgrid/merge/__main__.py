"""``python -m mmgrid.merge SPEC OUT_DIR``."""

import sys

from mmgrid.merge.cli import main

sys.exit(main())
