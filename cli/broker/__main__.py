"""``python -m cli.broker start``: run the development broker in the foreground."""

import sys

from cli.broker.command import main

sys.exit(main())
