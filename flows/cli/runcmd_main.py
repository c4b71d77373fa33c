"""``python -m flows.cli.runcmd_main ...``: the ``tumorcot run`` command alone, for subprocess tests."""

from __future__ import annotations

import typer

from flows.cli.runcmd import run

if __name__ == "__main__":
    typer.run(run)
