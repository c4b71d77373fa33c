"""The LLM layer: a litellm client with structured output, retries, cache, budget and de-identification.

``LLMClient.structured`` is the one entry point the ``llm`` agent backends use;
errors are the tree in ``engine.llm.errors``; prompt templates load through
``load_prompt``. litellm itself is imported on the first request.
"""

from engine.llm.client import LLMClient, LLMRequest, LLMResult
from engine.llm.errors import (
    BudgetExhausted,
    ExternalProviderNotAllowed,
    LLMError,
    LLMInvalidOutput,
    LLMRefused,
    LLMUnavailable,
)
from engine.llm.prompts import Prompt, load_prompt
from engine.llm.retry import Backoff

__all__ = [
    "Backoff",
    "BudgetExhausted",
    "ExternalProviderNotAllowed",
    "LLMClient",
    "LLMError",
    "LLMInvalidOutput",
    "LLMRefused",
    "LLMRequest",
    "LLMResult",
    "LLMUnavailable",
    "Prompt",
    "load_prompt",
]
