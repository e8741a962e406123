"""Answering questions from retrieved sources (rag, hybrid) or closed-book (base, finetune); see `answerer`.

One idea per module: `answer` (what an answer is, and its JSON form), `evidence` (what the model is shown, and the
prompt), `forms` (yes/no, choice and open answers), `extract` (the span inside a free answer), `calibrate` (refusal
with a calibration), `answerer` (the steps in order, batched).
"""

from ragtune.calibration import CalibrationError, load_calibration
from ragtune.rag.answer import Answer, SentenceSupport, Source
from ragtune.rag.answerer import Answerer, AnswerStream
from ragtune.rag.calibrate import apply_calibration, calibrate, calibration_record, load_calibration_for
from ragtune.rag.evidence import EvidenceSelector, PromptTooLongError, build_prompt
from ragtune.rag.extract import extract_span

__all__ = [
    "Answer",
    "AnswerStream",
    "Answerer",
    "CalibrationError",
    "EvidenceSelector",
    "PromptTooLongError",
    "SentenceSupport",
    "Source",
    "apply_calibration",
    "build_prompt",
    "calibrate",
    "calibration_record",
    "extract_span",
    "load_calibration",
    "load_calibration_for",
]
