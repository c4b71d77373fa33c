"""Token and cost accounting per agent and per case, and the run budget.

One ``Ledger`` belongs to one ``LLMClient``. It adds every request's tokens to
the run's ``Usage`` (per agent) and to a per-case ``Usage``, and refuses new
requests once the token or USD budget is reached. The check runs before each
request, so requests already in flight may overshoot the budget by their own
cost. Once reached, the budget stays exhausted for the life of the ledger.
"""

from __future__ import annotations

import copy
import threading

from engine.config import LLMSettings
from engine.llm.errors import BudgetExhausted
from engine.state import Usage


class Ledger:
    """Thread-safe usage tallies and the budget check."""

    def __init__(self, settings: LLMSettings, usage: Usage | None = None):
        self.budget_usd = settings.budget_usd
        self.budget_tokens = settings.budget_tokens
        self.usage = usage if usage is not None else Usage()
        self._per_case: dict[str, Usage] = {}
        self._tokens = 0
        self._cost_usd = 0.0
        self._exhausted_reason: str | None = None
        self._lock = threading.Lock()

    def check_budget(self, *, agent: str, case_id: str, model: str | None) -> None:
        """Raise ``BudgetExhausted`` when the budget is used up; otherwise return."""
        with self._lock:
            if self._exhausted_reason is None:
                self._exhausted_reason = self._over_budget()
            reason = self._exhausted_reason
        if reason is not None:
            raise BudgetExhausted(f"LLM budget exhausted ({reason}); no request sent for agent {agent}, case {case_id}",
                                  agent=agent, case_id=case_id, model=model)

    def record(self, *, agent: str, case_id: str, prompt_tokens: int, completion_tokens: int, cost_usd: float, cached: bool) -> None:
        """Add one request (or one cache hit, at zero cost) to the tallies."""
        with self._lock:
            self.usage.add(agent, prompt_tokens, completion_tokens, cost_usd, cached)
            self._per_case.setdefault(case_id, Usage()).add(agent, prompt_tokens, completion_tokens, cost_usd, cached)
            self._tokens += prompt_tokens + completion_tokens
            self._cost_usd += cost_usd

    def case_usage(self, case_id: str) -> Usage:
        """Return a copy of the usage of one case (empty when it made no call)."""
        with self._lock:
            return copy.deepcopy(self._per_case.get(case_id, Usage()))

    @property
    def total_tokens(self) -> int:
        return self._tokens

    @property
    def total_cost_usd(self) -> float:
        return self._cost_usd

    def _over_budget(self) -> str | None:
        if self.budget_tokens is not None and self._tokens >= self.budget_tokens:
            return f"{self._tokens} tokens used, budget {self.budget_tokens}"
        if self.budget_usd is not None and self._cost_usd >= self.budget_usd:
            return f"${self._cost_usd:.4f} spent, budget ${self.budget_usd:.4f}"
        return None
