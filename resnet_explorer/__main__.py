"""``python -m resnet_explorer``: the command-line interface."""

import sys

from resnet_explorer.cli import main

sys.exit(main())
