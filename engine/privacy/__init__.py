"""Patient-data protection: de-identification and the local-host policy for LLM providers."""

from engine.privacy.deid import Deidentifier, DeidResult, deidentify, reidentify
from engine.privacy.hosts import is_local, provider_host

__all__ = ["DeidResult", "Deidentifier", "deidentify", "is_local", "provider_host", "reidentify"]
