"""Small records used inside several contracts: flags, evidence spans, counters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from data_contracts.base import Record

Severity = Literal["info", "warning", "error"]


class Flag(Record):
    """A quality observation on a case: a warning that travels with it, or the reason it was rejected."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Reason code from data_contracts.rejects.REASON_CODES.")
    message: str = Field(description="What was wrong, naming the case, file and field.")
    severity: Severity = "warning"
    file: str | None = None
    field: str | None = None


class EvidenceSpan(Record):
    """A character span of a source text: ``text[start:end] == span_text``."""

    source: Literal["report", "pathology"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    section: str | None = Field(default=None, description="Report section the span lies in: findings, impression, conclusion or other.")

    @model_validator(mode="after")
    def _check_order(self) -> EvidenceSpan:
        if self.end < self.start:
            raise ValueError(f"evidence span end {self.end} is before start {self.start}")
        return self


class FieldEvidence(Record):
    """The span that one extracted field value came from."""

    field: str
    span: EvidenceSpan


class CountItem(Record):
    """One key of a counter, for example a reason code and how often it occurred."""

    key: str
    count: int = Field(ge=0)
