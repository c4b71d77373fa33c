"""Mapping of subregion mask names (TotalSegmentator structures) to KG subregion ids."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def kg_subregion_ids(organ: str) -> dict[str, str]:
    """Return {TotalSegmentator structure name: KG subregion id} from the ``totalseg`` fields of ``kg/organs/<organ>.yaml``.

    Returns an empty mapping when the organ has no KG file; callers then keep the
    structure name as the subregion id.
    """
    import kg

    path = Path(kg.__file__).parent / "organs" / f"{organ}.yaml"
    if not path.is_file():
        logger.debug("no KG file %s; subregion masks keep their structure names", path)
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    mapping: dict[str, str] = {}
    for spec in document.get("subregions", []) or []:
        names = spec.get("totalseg")
        for name in names if isinstance(names, list) else [names]:
            if name:
                mapping[str(name)] = str(spec["id"])
    return mapping
