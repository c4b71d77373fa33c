"""Result of evaluating a knowledge graph's AJCC staging rules on a set of facts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record


class StageResult(Record):
    """T, N and M categories for one organ, with the rules that produced them.

    A category that the facts cannot decide is ``TX``, ``NX`` or ``MX``, and
    ``missing`` names the facts that would decide it.
    """

    organ: str
    T: str = Field(description="T category, for example T1c or TX.")
    N: str = Field(description="N category, for example N1 or NX.")
    M: str = Field(description="M category, for example M0 or MX.")
    edition: Literal["AJCC8"] = "AJCC8"
    table: str = Field(default="", description="Staging table used, for example 'pancreas_exocrine' or 'pancreas_net'.")
    rules: tuple[str, ...] = Field(default=(), description="Ids of the KG rules that fired, in evaluation order.")
    missing: tuple[str, ...] = Field(default=(), description="Fact keys needed for an undecided category.")
