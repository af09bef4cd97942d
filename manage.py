#!/usr/bin/env python
"""Django's manage.py for bankdesk; `bankdesk` is the same command, installed."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from bankdesk.config.cli import main

if __name__ == "__main__":
    main(sys.argv)
