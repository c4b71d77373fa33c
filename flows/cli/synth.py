"""CLI commands of one area; the helper that owns this module fills in ``register``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root ``app``."""
