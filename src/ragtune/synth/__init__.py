"""Questions from documents alone: facts and answer spans (candidates), their wording (questions), the filters every
pair passes (filters), changed facts between two versions (diff), unanswerable questions (unanswerable), and the
orchestration (synthesize; runner for files and models)."""

from __future__ import annotations

from ragtune.synth.synthesize import SynthQuestion, SynthResult, SynthStats, synthesize

__all__ = ["SynthQuestion", "SynthResult", "SynthStats", "synthesize"]
