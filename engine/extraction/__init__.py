"""Report understanding: the offline rules backend and the validation every backend passes.

``extract_report`` and ``extract_pathology`` are the rules backend; the llm backend
lives in ``engine.extraction.llm_backend`` and is imported only when configured.
"""

from engine.extraction.pathology import extract_pathology
from engine.extraction.report import extract_report

__all__ = ["extract_pathology", "extract_report"]
