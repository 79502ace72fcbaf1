"""Train a liqa model: python train.py --config configs/default.yaml [section.key=value ...]

The same as `liqa train`; the code is liqa/cli/train.py.
"""
import sys

from liqa.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
