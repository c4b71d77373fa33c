"""DuckDB views over a local dataset folder: ``samples`` (the listed shards) and ``rejects``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from flows.dataset_manifest import REJECTS_NAME, read_manifest_json
from flows.storage import Storage


def connect(folder: str | Path) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB with views ``samples`` and ``rejects`` over the dataset."""
    folder = Path(folder)
    manifest = read_manifest_json(Storage.open(str(folder)))
    connection = duckdb.connect()
    paths = [str(folder / shard.path) for shard in manifest.shards]
    if paths:
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        connection.execute(f"CREATE VIEW samples AS SELECT * FROM read_parquet([{listed}])")
    else:
        connection.execute("CREATE VIEW samples AS SELECT NULL::VARCHAR AS sample_id, NULL::VARCHAR AS task_type, NULL::VARCHAR AS split, NULL::VARCHAR AS organ WHERE false")
    rejects = folder / REJECTS_NAME
    if rejects.exists():
        connection.execute(f"CREATE VIEW rejects AS SELECT * FROM read_parquet('{str(rejects).replace(chr(39), chr(39) * 2)}')")
    return connection


def run_sql(folder: str | Path, query: str) -> pa.Table:
    """Run ``query`` against the dataset views and return an Arrow table."""
    return connect(folder).sql(query).to_arrow_table()


def dataset_stats(folder: str | Path) -> dict[str, pa.Table]:
    """Return sample counts by task type, split and organ, and reject counts by reason."""
    connection = connect(folder)
    stats = {
        "samples by task type": connection.sql("SELECT task_type, count(*) AS samples FROM samples GROUP BY 1 ORDER BY 2 DESC").to_arrow_table(),
        "samples by split": connection.sql("SELECT split, count(*) AS samples, count(DISTINCT case_id) AS cases FROM samples GROUP BY 1 ORDER BY 1").to_arrow_table()
        if _has_rows(connection)
        else pa.table({"split": [], "samples": []}),
        "samples by organ": connection.sql("SELECT organ, count(*) AS samples FROM samples GROUP BY 1 ORDER BY 2 DESC").to_arrow_table(),
    }
    if (Path(folder) / REJECTS_NAME).exists():
        stats["rejects by reason"] = connection.sql("SELECT reason_code, agent, count(*) AS rows FROM rejects GROUP BY 1, 2 ORDER BY 3 DESC").to_arrow_table()
    return stats


def _has_rows(connection: duckdb.DuckDBPyConnection) -> bool:
    return bool(connection.sql("SELECT count(*) FROM samples").fetchone()[0])
