"""Entry point: `python main.py --help`. See README.md and installation/cli.py."""

import sys

from installation.cli import main

if __name__ == "__main__":
    sys.exit(main())
