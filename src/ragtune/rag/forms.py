"""Answers shaped by the question's form (see `ragtune.text.question_form`), not by which documents are asked about.

- **open** ("what / who / when / how many"): a span. With a local generator it is copied from the shown sentences
  (`ragtune.models.copying`): the model chooses the span and where it ends, and cannot invent one.
- **polar** ("Is / Does / Can ... ?"): a span copied from the sources cannot say yes or no. The model chooses
  between the replies "Yes" and "No" (its own probabilities, constrained to those two), and the answer opens with
  the decision, followed by the best shown sentence as its evidence: "Yes: <sentence> [n]".
- **choice** ("Which is older, A or B?"): the answer is one of the options the question names; a span of the
  sources may not even start at one. The model chooses among the options.

A generator that cannot constrain its decoding (a remote server) answers freely, and the free answer is mapped to
the form afterwards: its opening yes/no, or the option it names.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from ragtune.models.generator import Conversation, CopyingGenerator, CopySpec, GenerationParams
from ragtune.rag.evidence import Evidence
from ragtune.text import DECISIONS, QuestionForm, contains_answer, decision_of, normalize_answer, overlap_f1

POLAR_REPLIES = ("Yes", "No")


# Content-free inputs (Zhao et al. 2021, "Calibrate before use"): what the model answers to these is its prior.
CONTENT_FREE = ("N/A", "[MASK]", "")
# The prior is clipped to this range, so that one confident content-free answer cannot make a reply unreachable.
_PRIOR_RANGE = (0.02, 0.98)


def contextual_bias(
    generator: CopyingGenerator, prompts: Sequence[Conversation], params: GenerationParams, strength: float = 1.0
) -> tuple[float, ...]:
    """Per reply of `POLAR_REPLIES`, the log-prior that cancels `strength` of the model's own lean towards it: minus
    the log of its mean probability over `prompts` (the same prompt as real questions, with content-free sources and
    question), times `strength`. A small model asked yes or no leans to one reply whatever the sources say
    (SmolLM2-135M: "No" to 73% of PubMedQA's 500); dividing by the content-free probability levels the replies
    before the content speaks. Content-free prompts lean further than real ones (SmolLM2-135M: P(yes) 0.24 against
    about 0.35), so all of it overshoots (80% "Yes"); half of it levels PubMedQA (51% "Yes").
    () where the backend does not report the first token's probability."""
    specs = [CopySpec((), replies=POLAR_REPLIES)] * len(prompts)
    results = generator.generate_copying(prompts, specs, params)
    if not results or any("first_logprob" not in r.extra for r in results):
        return ()
    yes = []
    for r in results:
        p = math.exp(float(r.extra["first_logprob"]))
        yes.append(p if r.text.strip() == POLAR_REPLIES[0] else 1.0 - p)
    p_yes = min(max(sum(yes) / len(yes), _PRIOR_RANGE[0]), _PRIOR_RANGE[1])
    return (-strength * math.log(p_yes), -strength * math.log(1.0 - p_yes))


def copy_spec(
    form: QuestionForm,
    evidence: Evidence,
    *,
    avoid: Collection[str],
    answer_type: str,
    short_spans: bool,
    proximity: float,
    polar_bias: tuple[float, ...] = (),
) -> CopySpec:
    """What a copy-constrained answer of this form may be (`polar_bias`: `contextual_bias`'s log-priors)."""
    if form.kind == "polar":
        return CopySpec((), replies=POLAR_REPLIES, reply_bias=polar_bias)
    if form.kind == "choice":
        return CopySpec((), replies=form.options)
    # No refusal among the copyable replies: it starts with "The", the word every restating answer starts with,
    # so the model would walk into it whenever it meant to restate. Refusing is the calibrated decision's job.
    # Nor may a span start at one of the question's own words: that is how a restatement starts, not an answer.
    return CopySpec(
        evidence.sentences,
        avoid_starts=frozenset(avoid),
        answer_type=answer_type,
        end_at_citation=short_spans,
        proximity=proximity,
    )


def decision(text: str) -> str:
    """ "Yes" or "No" when `text` opens with one (a free answer may add words after it), else ""."""
    return {"yes": "Yes", "no": "No"}.get(decision_of(text) or "", "")


def chosen_option(text: str, options: Sequence[str]) -> str:
    """The option a free answer names: the one it contains (the earliest), else the closest by token overlap, else
    "" (it names none)."""
    norm = f" {normalize_answer(text)} "
    found = [(norm.find(f" {normalize_answer(o)} "), o) for o in options if normalize_answer(o)]
    inside = [(pos, o) for pos, o in found if pos >= 0]
    if inside:
        return min(inside)[1]
    scored = [(overlap_f1(norm.split(), normalize_answer(o).split()), o) for o in options]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] > 0 else ""


def shape(form: QuestionForm, text: str, evidence: Evidence) -> tuple[str, tuple[int, ...]]:
    """(answer text, the source numbers it rests on) of a `form` answer from the model's cleaned `text`; an open
    answer, or one that fits no form, is returned as it is with no citation added."""
    if form.kind == "polar" and (said := decision(text)):
        if evidence.best is None:
            return said, ()
        number, sentence = evidence.best
        return f"{said}: {sentence.rstrip(' .')}.", (number,)
    if form.kind == "choice" and (option := chosen_option(text, form.options)):
        holding = tuple(s.number for s in evidence.sources if s.excerpt and contains_answer(s.excerpt, option))
        return option, holding[:1]
    return text, ()


def lead_with_form(form: QuestionForm, text: str) -> str:
    """A capable reader's whole answer, opened with what its form asks for when the answer says it later: "Yes: <the
    answer>" for a yes/no question whose answer holds exactly one of yes, no and maybe ("the answer is no [2]"),
    "<option>:
    <the answer>" for a choice question. Nothing of the answer is cut; an answer that opens with its decision or
    option, or names none, is returned as it is."""
    norm = normalize_answer(text)
    if form.kind == "polar" and not decision_of(text):
        said = {w for w in norm.split() if w in DECISIONS}  # "maybe" too: a capable reader may answer it
        if len(said) == 1:
            return f"{said.pop().capitalize()}: {text}"
    option = chosen_option(text, form.options) if form.kind == "choice" else ""
    if option and not norm.startswith(normalize_answer(option)):
        return f"{option}: {text}"
    return text
