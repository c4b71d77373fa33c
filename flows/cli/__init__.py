"""The `tumorcot` command: one entry point, one sub-command module per area.

Each area module exposes ``register(app)``, which adds its commands; the modules
stay thin and import heavy packages inside the commands that need them.
"""

from __future__ import annotations

import logging

import typer

from flows.cli import casecmd, extract, imaging, kg, runcmd, synth

app = typer.Typer(
    name="tumorcot",
    help="Turn CT studies and reports into chain-of-thought VQA data for tumour analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.add_typer(kg.app, name="kg", help="Organ knowledge graphs: lint, diff, show, render, stage.")
for _module in (imaging, synth, extract, casecmd, runcmd):
    _module.register(app)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG instead of INFO.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Run the `tumorcot` command line."""
    app()
