"""Exceptions of the imaging package.

``ImagingError`` is the one error every loader, aligner and QA gate raises for a
case that cannot go on. It carries a reason code from
``data_contracts.rejects.REASON_CODES`` and names the case, the file, the field
and the rule, so the segmenter can turn it into a reject row unchanged.
"""

from __future__ import annotations

from data_contracts.common import Flag
from data_contracts.rejects import REASON_CODES


class ImagingError(ValueError):
    """A rejected CT or mask, with its reason code and the file it came from."""

    def __init__(self, reason_code: str, message: str, file: str | None = None, field: str | None = None, case_id: str = ""):
        if reason_code not in REASON_CODES:
            raise KeyError(f"unknown reason code {reason_code!r}; add it to data_contracts.rejects.REASON_CODES")
        self.reason_code = reason_code
        self.message = message
        self.file = file
        self.field = field
        self.case_id = case_id
        super().__init__(self._render())

    def _render(self) -> str:
        case = f"case {self.case_id!r}: " if self.case_id else ""
        where = [f"file {self.file}"] if self.file else []
        if self.field:
            where.append(f"field {self.field}")
        location = f" [{', '.join(where)}]" if where else ""
        return f"{case}{self.message}{location} (rule {self.reason_code})"

    def with_case(self, case_id: str) -> ImagingError:
        """Return the same error naming ``case_id`` when it names no case yet."""
        if self.case_id or not case_id:
            return self
        error = type(self)(self.reason_code, self.message, self.file, self.field, case_id)
        error.__cause__ = self.__cause__
        return error

    def to_flag(self) -> Flag:
        """Return the error as a flag of severity ``error``."""
        return Flag(code=self.reason_code, message=str(self), severity="error", file=self.file, field=self.field)


class SegmentationUnavailable(ImagingError):
    """No masks were given and the TotalSegmentator backend cannot run (weights or package missing)."""

    def __init__(self, message: str, file: str | None = None, field: str | None = None, case_id: str = ""):
        super().__init__("segmentation_unavailable", message, file, field, case_id)

    def with_case(self, case_id: str) -> SegmentationUnavailable:
        """Return the same error naming ``case_id`` when it names no case yet."""
        if self.case_id or not case_id:
            return self
        return SegmentationUnavailable(self.message, self.file, self.field, case_id)
