import sys

from genmetrics_nb.cli import main

sys.exit(main())
