"""The TumorCoT data engine: six agents, their backends, imaging I/O and cohort tools."""

from importlib.metadata import PackageNotFoundError, version

try:
    ENGINE_VERSION = version("tumorcot")
except PackageNotFoundError:  # running from a source tree that was never installed
    ENGINE_VERSION = "0.0.0+source"
