"""Prefect flows, the shard writer, the dataset manifest and the `tumorcot` CLI."""
