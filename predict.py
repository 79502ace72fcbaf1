"""Extract meeting events from articles: python predict.py INPUT... [--model DIR] [--out FILE]

The same as `liqa predict`; the code is liqa/cli/predict.py.
"""
import sys

from liqa.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
