"""Where a litellm model sends its requests, and whether that host counts as local.

A model with an ``api_base`` goes to that URL's host. Without one, litellm uses
the provider's default: ``ollama/`` and ``ollama_chat/`` go to localhost:11434
(litellm 1.110), and every other provider (``openai/``, ``anthropic/``, ...)
goes to a remote service, so it is external.
"""

from __future__ import annotations

from urllib.parse import urlparse

_LOCAL_DEFAULT_PROVIDERS = {"ollama": "localhost", "ollama_chat": "localhost"}


def provider_host(model: str, api_base: str | None) -> str | None:
    """Return the host the request goes to, or None when it is the provider's remote default."""
    if api_base:
        parsed = urlparse(api_base if "//" in api_base else f"http://{api_base}")
        return parsed.hostname
    provider = model.split("/", 1)[0] if "/" in model else ""
    return _LOCAL_DEFAULT_PROVIDERS.get(provider)


def is_local(model: str, api_base: str | None, local_hosts: tuple[str, ...] | list[str]) -> bool:
    """Tell whether requests for ``model`` stay on a host listed in ``local_hosts``."""
    host = provider_host(model, api_base)
    if host is None:
        return False
    allowed = {h.strip("[]").lower() for h in local_hosts}
    return host.strip("[]").lower() in allowed
