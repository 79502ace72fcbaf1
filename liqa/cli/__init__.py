"""The `liqa` command: `liqa predict|train|evaluate|annotations ...` (also `python -m liqa ...`).

Each subcommand is its module's own argparse command line; nothing heavy is imported before
the subcommand's arguments are parsed, so `--help` answers at once.
"""
from __future__ import annotations

import argparse
import importlib
import sys

import liqa

# subcommand -> (module whose main(argv, prog) runs it, one line for `liqa --help`)
COMMANDS = {
    "predict": ("liqa.cli.predict", "extract meeting events from articles (JSON Lines or HTML)"),
    "train": ("liqa.cli.train", "train a model from a YAML config"),
    "evaluate": ("liqa.cli.evaluate", "score a model or a prediction file against gold annotations"),
    "annotations": ("liqa.annotations.__main__", "validate, convert, import and export annotations "
                                                 "(python -m liqa.annotations)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="liqa", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Meeting events from Arabic, Persian and English news.\n\ncommands:\n"
                    + "\n".join(f"  {name:<12} {help_}" for name, (_, help_) in COMMANDS.items()),
        epilog="`liqa COMMAND --help` lists a command's options.")
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    parser.add_argument("--version", action="version", version=f"liqa {liqa.__version__}")
    # only the first word is ours: --help, --version, or an error naming an unknown command
    command = parser.parse_args(argv[:1]).command
    module = importlib.import_module(COMMANDS[command][0])
    if command == "annotations":  # its parser names itself `python -m liqa.annotations`
        return module.main(argv[1:])
    return module.main(argv[1:], prog=f"liqa {command}")
