"""``python -m deap_nnprune``: the command line (see :mod:`deap_nnprune.experiments.cli`).

Absolute imports, so this file also runs as a script path, which is how
SCOOP starts it: ``python -m scoop -n 2 $(which deap-nnprune) run ...``.
"""

import sys

from deap_nnprune.experiments.cli import main

if __name__ == "__main__":
    sys.exit(main())
