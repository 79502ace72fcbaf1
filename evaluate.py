"""Evaluate a model (or a prediction file) on annotated documents and write a report.

    python evaluate.py --model models/default annotations/test --out reports/test
    python evaluate.py --predictions out.jsonl annotations/test --out reports/test

The same as `liqa evaluate`; the code is liqa/cli/evaluate.py.
"""
import sys

from liqa.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
