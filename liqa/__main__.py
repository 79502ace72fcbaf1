"""python -m liqa COMMAND ...: the same as the `liqa` command."""
import sys

from liqa.cli import main

sys.exit(main())
