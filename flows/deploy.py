"""Serve the ``tumorcot-engine`` flow as a deployment of a running Prefect server.

``python -m flows.deploy --name local`` registers the deployment
``tumorcot-engine/local`` and executes its runs in this process until stopped
(SIGTERM). Start a run with
``prefect deployment run 'tumorcot-engine/local' --param params='{"manifest": ..., "out": ...}'``.
For a process work pool, use ``prefect deploy`` with prefect.yaml instead.
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the flow."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="local", help="Deployment name.")
    parser.add_argument("--params", default=None, help="Default run parameters as JSON, for example '{\"manifest\": \"m.csv\", \"out\": \"ds\"}'.")
    parser.add_argument("--limit", type=int, default=None, help="Flow runs executed at once.")
    args = parser.parse_args(argv)

    from flows.engine_flow import tumorcot_engine

    parameters = {"params": json.loads(args.params)} if args.params else None
    tumorcot_engine.serve(name=args.name, parameters=parameters, limit=args.limit)


if __name__ == "__main__":
    main()
