"""Run the six agents on one case: segmenter -> extractor -> reasoner -> calibrator -> summarizer -> composer.

``build_context`` is called once per worker; ``run_case`` once per case. ``run_case``
never raises for a bad case: a ``CaseRejected`` or a typed LLM error becomes a
reject record, any other exception an ``internal_error`` reject (logged with its
traceback), and a rejected case yields no samples at all. Organ-level rejects
from the calibrator travel with the samples of the other organs.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from data_contracts import REASON_CODES, CaseInput, Chain, Flag, RejectRecord, VQASample
from engine.config import AGENTS, EngineConfig
from engine.state import CaseRejected, CaseState, EngineContext, Usage

logger = logging.getLogger(__name__)

HASH_CHUNK_BYTES = 1 << 20
CASE_FILE_FIELDS = ("ct_path", "masks_path", "lesions_path", "liver_segments_path", "imaging_features_path", "report_path", "pathology_path")


@dataclass
class CaseResult:
    """Outcome of one case: its samples, or its rejects and no samples."""

    case_id: str
    input_hash: str
    samples: list[VQASample] = field(default_factory=list)
    rejects: list[RejectRecord] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    repairs: int = 0
    seconds: float = 0.0

    @property
    def rejected(self) -> bool:
        """True when the case produced no samples."""
        return not self.samples


def build_context(config: EngineConfig, *, organs: Iterable[str] | None = None) -> EngineContext:
    """Load the organ KGs once and return the per-worker context; the LLM client only when an agent uses it."""
    import kg
    from engine import ENGINE_VERSION

    kgs = kg.load_all()
    if organs is not None:
        wanted = list(organs)
        unknown = [organ for organ in wanted if organ not in kgs]
        if unknown:
            raise ValueError(f"unknown organs {unknown}; organs with a KG: {', '.join(kgs)}")
        kgs = {organ: kgs[organ] for organ in wanted}
    ctx = EngineContext(config=config, kgs=kgs, kg_version=kg.kg_version(kgs), engine_version=ENGINE_VERSION)
    if any(config.backend_for(agent).backend == "llm" for agent in AGENTS):
        from engine.llm import LLMClient

        ctx.llm = LLMClient(config.llm, ctx.usage, seed=config.seed)
    return ctx


def case_input_hash(case: CaseInput, ctx: EngineContext) -> str:
    """Return the sha256 of the case's input file contents, its fields, the config hash and the KG version.

    Files are read in 1 MiB chunks; a folder (DICOM series, mask folder) contributes
    every file under it by relative path. A missing path contributes a marker, so
    the hash exists even for a case that will be rejected.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(case.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(f"\0config={ctx.config.config_hash()}\0kg={ctx.kg_version}\0".encode())
    for name in CASE_FILE_FIELDS:
        value = getattr(case, name)
        if value:
            digest.update(f"\0{name}\0".encode())
            _hash_path(Path(value), digest)
    return digest.hexdigest()


def _hash_path(path: Path, digest) -> None:
    if path.is_file():
        _hash_file(path, digest)
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"\0{file.relative_to(path).as_posix()}\0".encode())
            _hash_file(file, digest)
    else:
        digest.update(b"\0missing\0")


def _hash_file(path: Path, digest) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)


def run_case(case: CaseInput, ctx: EngineContext, *, split: str | None = None, input_hash: str | None = None) -> CaseResult:
    """Run the six agents on ``case`` and return its samples, or its rejects and no samples.

    ``input_hash`` is the case's ``case_input_hash`` when the caller has computed it
    already; passing it saves reading every input file a second time.
    """
    from engine.splits import assign_split

    started = time.monotonic()
    usage_before = _usage_snapshot(ctx, case.case_id)
    input_hash = input_hash or ""
    agent = "pipeline"
    state = CaseState(case=case)
    try:
        input_hash = input_hash or case_input_hash(case, ctx)
        split = split or assign_split(case.patient_id or case.case_id, ctx.config.split_ratios, ctx.config.seed)
        state = CaseState(case=case, input_hash=input_hash, extras={"split": split})
        for agent in AGENTS:
            state = _agent_module(agent).run(state, ctx)
            if agent == "calibrator" and not any(c.status == "accepted" for c in state.chains):
                raise CaseRejected(agent, _organ_reject_code(state), f"case {case.case_id}: no chain passed calibration")
        if not state.samples:
            raise CaseRejected("composer", "no_findings", f"case {case.case_id}: the accepted chains support no question")
    except CaseRejected as rejected:
        return _rejected(case, ctx, state, input_hash, started, usage_before, _reject_from_exception(case, input_hash, rejected))
    except Exception as error:  # the case must not stop the run: every error becomes a reject row
        reject = _reject_for_error(case, input_hash, agent, error)
        return _rejected(case, ctx, state, input_hash, started, usage_before, reject)

    result = CaseResult(
        case_id=case.case_id, input_hash=input_hash, samples=list(state.samples), rejects=_stamped(state.rejects, input_hash),
        chains=_all_chains(state), flags=_unique_flags(state.flags), usage=_case_usage(ctx, case.case_id, usage_before),
        repairs=sum(len(c.repairs) for c in state.chains), seconds=time.monotonic() - started,
    )
    logger.info("case %r: %d samples, %d organ rejects, %d repairs in %.1f s", case.case_id, len(result.samples), len(result.rejects), result.repairs, result.seconds)
    return result


def _agent_module(agent: str):
    return importlib.import_module(f"engine.agents.{agent}")


def _organ_reject_code(state: CaseState) -> str:
    codes = [r.reason_code for r in state.rejects] + [c.reject_code for c in state.chains if c.reject_code]
    return codes[0] if codes else "no_findings"


def _reject_from_exception(case: CaseInput, input_hash: str, rejected: CaseRejected) -> RejectRecord:
    return RejectRecord(case_id=case.case_id, agent=rejected.agent, reason_code=_known_code(rejected.reason_code), message=rejected.message,
                        organ=rejected.organ, file=rejected.file, field=rejected.field, input_hash=input_hash or None)


def _reject_for_error(case: CaseInput, input_hash: str, agent: str, error: Exception) -> RejectRecord:
    code = getattr(error, "reason_code", None)
    if isinstance(code, str) and code:
        message = getattr(error, "message", None) or str(error)
        logger.warning("case %r: %s failed with %s (%s)", case.case_id, agent, type(error).__name__, code)
        return RejectRecord(case_id=case.case_id, agent=getattr(error, "agent", None) or agent, reason_code=_known_code(code),
                            message=f"{type(error).__name__}: {message}", input_hash=input_hash or None)
    logger.error("case %r: internal error in %s", case.case_id, agent, exc_info=error)
    return RejectRecord(case_id=case.case_id, agent=agent, reason_code="internal_error",
                        message=f"{type(error).__name__}: {error}", input_hash=input_hash or None)


def _known_code(code: str) -> str:
    if code in REASON_CODES:
        return code
    logger.error("reason code %r is not registered in data_contracts.REASON_CODES; recording internal_error", code)
    return "internal_error"


def _rejected(case, ctx, state: CaseState, input_hash, started, usage_before, reject: RejectRecord) -> CaseResult:
    logger.info("case %r rejected by %s: %s", case.case_id, reject.agent, reject.reason_code)
    return CaseResult(
        case_id=case.case_id, input_hash=input_hash, samples=[], rejects=_stamped([*state.rejects, reject], input_hash), chains=_all_chains(state),
        flags=_unique_flags(state.flags), usage=_case_usage(ctx, case.case_id, usage_before),
        repairs=sum(len(c.repairs) for c in state.chains), seconds=time.monotonic() - started,
    )


def _all_chains(state: CaseState) -> list[Chain]:
    """Return the accepted chains, then the calibrator's rejected ones (``status == "rejected"``) for audit."""
    rejected = [c for c in state.extras.get("rejected_chains", ()) if c.chain_id not in {a.chain_id for a in state.chains}]
    return [*state.chains, *rejected]


def _stamped(rejects, input_hash: str) -> list[RejectRecord]:
    """Return the rejects with the case's input hash filled in where an agent left it empty."""
    return [r if r.input_hash or not input_hash else r.model_copy(update={"input_hash": input_hash}) for r in rejects]


def _unique_flags(flags) -> list[Flag]:
    return list(dict.fromkeys(flags))


def _usage_snapshot(ctx: EngineContext, case_id: str) -> Usage:
    return copy.deepcopy(ctx.usage)


def _case_usage(ctx: EngineContext, case_id: str, before: Usage) -> Usage:
    """Return the LLM usage of this case: the client's per-case ledger, else the growth of the shared usage."""
    if ctx.llm is not None and hasattr(ctx.llm, "case_usage"):
        return ctx.llm.case_usage(case_id)
    # NOTE: the difference is exact only while one case at a time runs on this context.
    after = ctx.usage
    delta = Usage()
    for name in ("prompt_tokens", "completion_tokens", "cost_usd", "calls", "cache_hits"):
        old, new = getattr(before, name), getattr(after, name)
        setattr(delta, name, {k: v - old.get(k, 0) for k, v in new.items() if v != old.get(k, 0)})
    return delta
