"""The exceptions the LLM layer raises, in one tree.

    LLMError                    base; ``reason_code`` is a key of data_contracts.REASON_CODES
    ├── LLMInvalidOutput        llm_invalid_output: reply failed the schema after one corrective retry
    ├── LLMRefused              llm_refused: the model declined to answer
    ├── LLMUnavailable          llm_failed: timeouts, 429, 5xx or connection errors outlasted the retries,
    │                           or the provider rejected the request (4xx other than 429)
    ├── BudgetExhausted         budget_exhausted: the run's token or USD budget is used up
    └── ExternalProviderNotAllowed
                                external_provider_not_allowed: the provider is outside local_hosts
                                and LLMSettings.allow_external is false

Messages name the agent, case and model, never report text, so they are safe to log.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base of every LLM-layer failure; carries the reject reason code."""

    reason_code = "llm_failed"

    def __init__(self, message: str, *, agent: str | None = None, case_id: str | None = None, model: str | None = None, attempts: int = 0):
        super().__init__(message)
        self.message = message
        self.agent = agent
        self.case_id = case_id
        self.model = model
        self.attempts = attempts


class LLMInvalidOutput(LLMError):
    """The reply was not valid JSON for the schema, also after the corrective retry."""

    reason_code = "llm_invalid_output"


class LLMRefused(LLMError):
    """The model refused the request (refusal text or ``message.refusal``)."""

    reason_code = "llm_refused"


class LLMUnavailable(LLMError):
    """The provider kept failing, or rejected the request outright."""

    reason_code = "llm_failed"


class BudgetExhausted(LLMError):
    """The token or USD budget is reached; no further request is sent."""

    reason_code = "budget_exhausted"


class ExternalProviderNotAllowed(LLMError):
    """The configured provider is not local and external providers are disabled."""

    reason_code = "external_provider_not_allowed"


__all__ = ["BudgetExhausted", "ExternalProviderNotAllowed", "LLMError", "LLMInvalidOutput", "LLMRefused", "LLMUnavailable"]
