"""`python -m lslm VERB [options]`: the `lslm` command without its console script (lslm.cli)."""
import sys

from lslm.cli import main

sys.exit(main())
