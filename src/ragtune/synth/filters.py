"""The checks every question passes, whoever wrote it: the answer is a span of its evidence, the question does not
give the answer away, no near-duplicates, and the round trip (answering the question from its evidence sentence
alone gives the answer back). Each returns what it kept and can fail; `synthesize` counts what each dropped."""

from __future__ import annotations

from collections.abc import Sequence

from ragtune.models.generator import CopyingGenerator, CopySpec, GenerationParams, Generator
from ragtune.prompts import SourceText, rag_messages
from ragtune.synth.questions import Draft
from ragtune.synth.textkit import STOPWORDS, answer_correct, answer_type, content_terms, normalize_answer, words

YES_NO = ("yes", "no")


def answer_is_span(draft: Draft) -> bool:
    """The answer is written in its evidence sentence as it stands (a yes/no answer is one of those two words)."""
    if draft.shape == "yesno":
        return draft.answer in YES_NO
    return bool(draft.answer.strip()) and draft.answer in draft.fact.sentence


def _without_options(question: str, draft: Draft) -> str:
    """A which-of-two question names its answer among the options by design; the rest of it may not."""
    if len(draft.options) == 2:
        a, b = draft.options
        question = question.replace(f"{a} or {b}", " ", 1).replace(f"{b} or {a}", " ", 1)
    return question


def answer_not_in_question(draft: Draft) -> bool:
    """Neither wording contains the answer (as whole normalized words; "4" may stand in "14")."""
    if draft.shape == "yesno":
        return True
    return not any(answer_correct(_without_options(q, draft), [draft.answer]) for q in (draft.question, draft.twin))


# Words a wording adds around the sentence's own ("According to the documents", "what number of"): not evidence.
_FRAMING = frozenset(content_terms("according documents say true number amount share percentage person name date"))
MIN_GROUNDING = 0.5


def grounded(draft: Draft) -> bool:
    """Both wordings ask about what the evidence says: at least half of each one's content words (stemmed, framing
    words aside) occur in the evidence sentence. Why: a small model writes fluent questions about something else
    ("The Zorvath bridge was opened by which engineer?") that a copy-constrained answer still "answers"."""
    evidence = set(content_terms(draft.fact.sentence))
    # The twin may name its subject by another mention in the document (`ragtune.synth.reword`): about it too.
    # Both may name the document by its title (`ragtune.synth.questions.anchored`): about it too.
    evidence |= set(content_terms(draft.anchor))
    for question, mentioned in ((draft.question, ""), (draft.twin, draft.mentioned)):
        known = evidence | set(content_terms(mentioned)) if mentioned else evidence
        terms = [t for t in content_terms(_without_options(question, draft)) if t not in _FRAMING]
        if terms and sum(t in known for t in terms) / len(terms) < MIN_GROUNDING:
            return False
    return True


def _word_set(text: str) -> frozenset[str]:
    return frozenset(normalize_answer(text).split())


def jaccard(a: str, b: str) -> float:
    x, y = _word_set(a), _word_set(b)
    return len(x & y) / len(x | y) if x | y else 1.0


def drop_near_duplicates(drafts: Sequence[Draft], threshold: float, kept: Sequence[Draft] = ()) -> list[Draft]:
    """Drafts in order, without one that asks the same thing as an earlier one (or one of `kept`): the same answer
    from the same sentence, or a training question whose words overlap an earlier one's by `threshold` or more."""
    out: list[Draft] = []
    seen = {(d.fact.sentence, normalize_answer(d.answer)) for d in kept}
    previous = [d.question for d in kept]
    for d in drafts:
        key = (d.fact.sentence, normalize_answer(d.answer))
        if key in seen or any(jaccard(d.question, p) >= threshold for p in previous):
            continue
        seen.add(key)
        previous.append(d.question)
        out.append(d)
    return out


def answered(prediction: str, draft: Draft) -> bool:
    """The project's correctness rule; a yes/no answer must lead with its word."""
    if draft.shape == "yesno":
        first = normalize_answer(prediction).split()[:1]
        return first == [draft.answer]
    return answer_correct(prediction, [draft.answer])


def _copy_spec(question: str, draft: Draft) -> CopySpec:
    """What the answerer lets the model copy (as `ragtune.rag` does): spans of the evidence starting at a word of
    the kind the question asks for, not at one of the question's own words; yes/no among the replies."""
    avoid = frozenset(w for w in words(question) if w not in STOPWORDS)
    replies = YES_NO if draft.shape == "yesno" else ()
    return CopySpec((draft.fact.sentence,), replies, avoid, answer_type(question), end_at_citation=True)


def round_trip(drafts: Sequence[Draft], generator: Generator, batch: int = 16) -> list[bool]:
    """Per draft: does the generator, shown only the evidence sentence as its one source, answer both wordings with
    the draft's answer? Asked the way compare's rag asks (copy-constrained where the backend can, else free text),
    in batches of `batch`."""
    asks = [(q, d) for d in drafts for q in (d.question, d.twin)]
    # Answers are short spans followed by a citation: "[" ends a free one early, which is most of the cost saved.
    params = GenerationParams(max_new_tokens=12, temperature=0.0, stop=("\n", "["))
    texts: list[str] = []
    for i in range(0, len(asks), batch):
        part = asks[i : i + batch]
        prompts = [rag_messages(q, [SourceText(1, d.fact.title, d.fact.sentence)]) for q, d in part]
        if isinstance(generator, CopyingGenerator):
            specs = [_copy_spec(q, d) for q, d in part]
            texts += [r.text for r in generator.generate_copying(prompts, specs, params)]
        else:
            texts += [r.text for r in generator.generate(prompts, params)]
    return [answered(texts[2 * i], d) and answered(texts[2 * i + 1], d) for i, d in enumerate(drafts)]
