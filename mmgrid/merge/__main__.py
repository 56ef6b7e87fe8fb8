"""``python -m mmgrid.merge SPEC OUT_DIR``."""

import sys

from mmgrid.merge.merge_cli import main

sys.exit(main())
