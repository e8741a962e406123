"""The local transformers backend: batched generation (evaluation asks hundreds of questions) and streaming.

Prompts are rendered only by `ragtune.models.chat.render_prompt`, so a tuned model is asked exactly what it was
trained on. Batches are left-padded (a decoder continues from the right end of every row) and sorted by length
first so that little compute goes to padding.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragtune.config import ModelsConfig, choices_of
from ragtune.errors import ModelNotFoundError, RagtuneError
from ragtune.models.chat import end_of_turn, render_prompt
from ragtune.models.copying import CopyConstraint, build_trie
from ragtune.models.generator import (
    Conversation,
    CopySpec,
    GenerationParams,
    GenerationResult,
    TextStream,
    apply_stop,
)
from ragtune.models.registry import GeneratorFiles, rebuild_gguf_cache

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)
# Fewer shared tokens than this are not worth a cache copy (a chat template's opening alone is a few tokens).
_MIN_SHARED_PREFIX = 16

DTYPES = choices_of(ModelsConfig, "dtype")


def torch_dtype(dtype: str) -> torch.dtype:
    import torch

    if dtype not in DTYPES:
        raise RagtuneError(f"models.dtype: '{dtype}' is not one of {', '.join(DTYPES)}")
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def resolve_device(device: str) -> str:
    """'auto' means CUDA when torch sees a GPU, else CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except RuntimeError as exc:  # it failed later as a model folder that would not load, with "reinstall the model"
        raise RagtuneError(
            f"models.device: '{device}' is not a device torch knows; use 'auto', 'cpu' or 'cuda' (or 'cuda:N')"
        ) from exc
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RagtuneError(f"models.device: '{device}' asked for, but torch sees no CUDA GPU; use 'cpu' or 'auto'")
    return device


def _load(folder: Path, dtype: str, device: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # local_files_only: the folder is local; this also keeps transformers from asking the hub anything.
    tokenizer: Any = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model: Any = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch_dtype(dtype), local_files_only=True)
    model.to(resolve_device(device))
    model.eval()
    if tokenizer.pad_token is None:  # base models often have none; padding positions are masked anyway
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_causal_lm(
    files: GeneratorFiles, dtype: str = "float32", device: str = "cpu"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (in eval mode, on `device`) and tokenizer from a resolved generator folder, offline.

    A converted GGUF cache that passed its checks but still cannot be loaded is rebuilt once from the GGUF.
    """
    try:
        return _load(files.folder, dtype, device)
    except RagtuneError:
        raise
    except Exception as exc:
        if files.gguf is None:
            raise ModelNotFoundError(
                f"generator '{files.name}': cannot load the model folder {files.folder} ({type(exc).__name__}: "
                f"{exc}). Check that it was saved with `save_pretrained` and is complete."
            ) from exc
        log.warning("model cache %s does not load (%s); rebuilding it from %s", files.folder, exc, files.gguf)
        rebuild_gguf_cache(files)
        return _load(files.folder, dtype, device)


class _Cancel:
    """A stopping criterion that ends generation when a stream's reader goes away."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class HFGenerator:
    """`Generator` on a transformers causal LM. Greedy by default; samples (seeded) when temperature > 0."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        name: str,
        batch_size: int = 16,  # generation.batch_size's default
        context_window: int | None = None,
        reuse_prefix: bool = True,
        base_name: str = "",
    ) -> None:
        if batch_size < 1:
            raise RagtuneError(f"generation.batch_size must be at least 1, got {batch_size}")
        # Typed loosely on purpose: transformers' own annotations of generate/decode are too narrow for mypy.
        self.model: Any = model
        self.tokenizer: Any = tokenizer
        self._name = name
        self.base_name = base_name or name  # the model without its adapter (see generator.model_identity)
        self.parameters = sum(int(p.numel()) for p in model.parameters())  # rag.reader = auto reads it
        self.batch_size = batch_size
        self.reuse_prefix = reuse_prefix
        # The attention cache of the last shared prompt start (instructions and worked example are the same for
        # every question): (its token ids, the cache). One entry: a run asks with one kind of prompt at a time.
        self._prefix: tuple[tuple[int, ...], Any] | None = None
        self._prefix_lock = threading.Lock()
        # What the model calls its attention cache, in `forward`/`generate` and in their outputs: `cache` since
        # transformers 5.x (which warns on, and from 6.0 drops, the old name), `past_key_values` before.
        # A PEFT wrapper's forward takes **kwargs: the wrapped model's signature says.
        unwrap = getattr(model, "get_base_model", None)
        base: Any = unwrap() if callable(unwrap) else model
        self._cache_argument = "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
        model_window = int(getattr(model.config, "max_position_embeddings", 0) or 0)
        self._context_window = int(context_window or model_window or 2048)
        self._eot = end_of_turn(tokenizer)
        self._eos = self._eos_ids()
        self._pad = self._pad_id()
        # The tokens that open a citation ("Ilse Mahr [1]"): in a copied answer they mean "the answer ends here".
        self._citation_start = sorted(
            {ids[0] for ids in tokenizer([" [1]", "[1]"], add_special_tokens=False)["input_ids"] if ids}
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self._context_window

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ----------------------------------------------------------------------------------------------- helpers

    def _eos_ids(self) -> list[int]:
        ids: set[int] = set()
        eot = self.tokenizer.convert_tokens_to_ids(self._eot)
        if isinstance(eot, int) and eot != self.tokenizer.unk_token_id:
            ids.add(eot)
        configured = self.model.generation_config.eos_token_id
        if isinstance(configured, int):
            ids.add(configured)
        elif configured:
            ids.update(int(i) for i in configured)
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        return sorted(ids)

    def _pad_id(self) -> int:
        """The id that fills rows of a batch: left of short prompts, and after a row has finished.

        SmolLM2's pad token is its end-of-turn token, which would make "finished, now padding" look like "generated
        one more end-of-turn" and miscount tokens out; a special token that is never an end marker avoids that.
        """
        for candidate in (self.tokenizer.unk_token_id, self.tokenizer.pad_token_id, self.tokenizer.eos_token_id):
            if candidate is not None and int(candidate) not in self._eos:
                return int(candidate)
        return int(self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos[0])

    def _prompt_ids(self, conversation: Conversation, params: GenerationParams) -> tuple[list[int], int]:
        """Token ids of the rendered prompt, cut from the left when prompt plus answer exceed the window."""
        text = render_prompt(self.tokenizer, conversation)
        ids: list[int] = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        room = self._context_window - params.max_new_tokens
        if room < 1:
            raise RagtuneError(
                f"generation.max_new_tokens ({params.max_new_tokens}) leaves no room for a prompt in the "
                f"{self._context_window}-token context window of {self._name}"
            )
        if len(ids) > room:
            log.warning("prompt of %d tokens cut to the last %d to fit the context window", len(ids), room)
            return ids[-room:], len(ids) - room
        return ids, 0

    def _generate_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "eos_token_id": self._eos,
            "pad_token_id": self._pad,
        }
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_k=0, top_p=1.0)
        else:  # explicit, so that a model's own sampling defaults never make greedy runs random
            kwargs.update(do_sample=False, temperature=None, top_k=None, top_p=None)
        stops = [s for s in params.stop if s]
        if stops:
            kwargs.update(stop_strings=stops, tokenizer=self.tokenizer)
        return kwargs

    def _batch_inputs(self, rows: Sequence[list[int]]) -> dict[str, Any]:
        """input_ids and attention_mask of a batch, plus the attention cache when the rows share a start whose cache
        can be reused. Rows are padded on the left of what they do not share: [shared start][pad][rest of row], so
        that every row's last prompt token sits in the last column; position ids follow the mask, so the padding
        in the middle changes no position."""
        import torch

        shared = self._shared_start(rows)
        cache = self._prefix_cache(rows[0][:shared]) if shared else None
        if cache is None:
            shared = 0
        width = max(len(r) for r in rows) - shared
        ids = torch.full((len(rows), shared + width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(rows), shared + width), dtype=torch.long)
        if shared:
            ids[:, :shared] = torch.tensor(rows[0][:shared], dtype=torch.long)
            mask[:, :shared] = 1
        for i, r in enumerate(rows):
            rest = r[shared:]
            ids[i, shared + width - len(rest) :] = torch.tensor(rest, dtype=torch.long)
            mask[i, shared + width - len(rest) :] = 1
        device = self.model.device
        inputs: dict[str, Any] = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
        if cache is not None:
            inputs[self._cache_argument] = cache
            cache.batch_repeat_interleave(len(rows))
        return inputs

    def _shared_start(self, rows: Sequence[list[int]]) -> int:
        """How many leading tokens of the rows to take from a cache: the cached start when every row begins with
        it (a single question asked after a batch), else what every row of the batch starts with, when enough to
        be worth a cache. Each row keeps at least one token of its own: generation needs a token to start from."""
        if not self.reuse_prefix or self.model.training:  # weights that change would make the cache stale
            return 0
        limit = min(len(r) for r in rows) - 1
        cached = self._prefix[0] if self._prefix is not None else ()
        if cached and len(cached) <= limit and all(tuple(r[: len(cached)]) == cached for r in rows):
            return len(cached)
        if len(rows) < 2:
            return 0
        n = 0
        while n < limit and all(r[n] == rows[0][n] for r in rows):
            n += 1
        return n if n >= _MIN_SHARED_PREFIX else 0

    def _prefix_cache(self, prefix: list[int]) -> Any:
        """A fresh copy of the attention cache of `prefix` (computed once per distinct prefix), or None where the
        model's cache cannot be copied and widened to a batch."""
        import torch

        key = tuple(prefix)
        with self._prefix_lock:  # the server streams from threads
            if self._prefix is None or self._prefix[0] != key:
                with torch.inference_mode():
                    out = self.model(torch.tensor([prefix], device=self.model.device), use_cache=True)
                self._prefix = (key, out[self._cache_argument])
            cache = self._prefix[1]
        if not hasattr(cache, "batch_repeat_interleave"):
            self.reuse_prefix = False  # this model's cache cannot be shared; stop computing starts for nothing
            return None
        return deepcopy(cache)  # generation appends to the cache it is given

    def _finish(self, new_ids: list[int], params: GenerationParams) -> tuple[str, int, Literal["stop", "length"]]:
        """(text, tokens generated, finish reason) for one row of new tokens.

        A row ends at its first end-of-turn token (generated, so counted) or at the first padding (the row was
        finished by a stop sequence while others went on).
        """
        n, hit_eos = len(new_ids), False
        for i, t in enumerate(new_ids):
            if t in self._eos:
                n, hit_eos = i + 1, True
                break
            if t == self._pad:
                n = i
                break
        text = str(self.tokenizer.decode(new_ids[: n - 1 if hit_eos else n], skip_special_tokens=True))
        text, hit_stop = apply_stop(text, params.stop)
        reason: Literal["stop", "length"] = "stop" if hit_eos or hit_stop or n < params.max_new_tokens else "length"
        return text.strip(), n, reason

    # ------------------------------------------------------------------------------------------------- API

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[GenerationResult]:
        return self._generate(conversations, params, None)

    def generate_copying(
        self, conversations: Sequence[Conversation], copy: Sequence[CopySpec], params: GenerationParams
    ) -> list[GenerationResult]:
        """Like `generate`, but each answer is a span of its spec's texts (or one of its replies)."""
        if len(copy) != len(conversations):
            raise RagtuneError(f"{len(conversations)} conversations but {len(copy)} copy specs")
        return self._generate(conversations, params, copy)

    def _constraint(self, specs: Sequence[CopySpec], width: int, params: GenerationParams) -> CopyConstraint:
        # No citation brackets inside a copied answer: the answer is one span, and its source is known from where
        # the span was copied (attribution). Where the spec asks, the model's wish to cite ends the span.
        tries = [
            build_trie(
                self.tokenizer,
                s.texts,
                s.replies,
                params.max_new_tokens,
                s.avoid_starts,
                s.answer_type,
                s.proximity,
                s.reply_bias,
            )
            for s in specs
        ]
        return CopyConstraint(tries, width, self._eos, self._citation_start, [s.end_at_citation for s in specs])

    def _confidence(self, logprobs: Any, new_ids: Sequence[int]) -> dict[str, float]:
        """The model's confidence in its answer: mean and lowest log-probability of the answer's tokens, up to the
        end-of-turn or the padding after it (neither is part of the answer). A calibration signal for refusing."""
        end = next((i for i, t in enumerate(new_ids) if t in self._eos or t == self._pad), len(new_ids))
        answer = logprobs[: max(1, end)]
        first = float(answer[0])  # of the first token: where a constrained reply's choice is made
        return {"mean_logprob": float(answer.mean()), "min_logprob": float(answer.min()), "first_logprob": first}

    def _generate(
        self, conversations: Sequence[Conversation], params: GenerationParams, copy: Sequence[CopySpec] | None
    ) -> list[GenerationResult]:
        import torch
        from transformers import LogitsProcessorList

        prompts = [self._prompt_ids(c, params) for c in conversations]
        # Longest first, so rows of similar length share a batch and the first batch shows the peak memory.
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i][0]))
        results: list[GenerationResult | None] = [None] * len(prompts)
        kwargs = self._generate_kwargs(params)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            inputs = self._batch_inputs([prompts[i][0] for i in batch])
            if params.temperature > 0:
                torch.manual_seed(params.seed + start)  # reproducible sampling for a given seed and batching
            t0 = time.perf_counter()
            width = inputs["input_ids"].shape[1]
            extra: dict[str, Any] = {}
            if copy is not None:
                constraint = self._constraint([copy[i] for i in batch], width, params)
                extra["logits_processor"] = LogitsProcessorList([constraint])
            with torch.inference_mode():
                generated = self.model.generate(
                    **inputs, **kwargs, **extra, output_scores=True, return_dict_in_generate=True
                )
                out = generated.sequences
                logprobs = _token_logprobs(generated.scores, out[:, width:])
            seconds = time.perf_counter() - t0
            for row, i in enumerate(batch):
                new_ids = out[row, width:].tolist()
                text, n_out, reason = self._finish(new_ids, params)
                results[i] = GenerationResult(
                    text=text,
                    tokens_in=len(prompts[i][0]),
                    tokens_out=n_out,
                    seconds=seconds / len(batch),  # the batch's time, shared, so that sums over results add up
                    finish_reason=reason,
                    extra={
                        **self._confidence(logprobs[row], new_ids),
                        "batch_seconds": seconds,
                        "batch_size": float(len(batch)),
                        "truncated": float(prompts[i][1]),
                    },
                )
        return [r for r in results if r is not None]

    def stream(self, conversation: Conversation, params: GenerationParams) -> TextStream:
        return self._stream(conversation, params, None)

    def stream_copying(self, conversation: Conversation, copy: CopySpec, params: GenerationParams) -> TextStream:
        """Like `stream`, with the answer copied from the spec's texts as in `generate_copying`."""
        return self._stream(conversation, params, copy)

    def _stream(self, conversation: Conversation, params: GenerationParams, copy: CopySpec | None) -> TextStream:
        stream = TextStream()
        stream.pieces = self._stream_pieces(conversation, params, copy, stream.extra)
        return stream

    def _stream_pieces(
        self, conversation: Conversation, params: GenerationParams, copy: CopySpec | None, extra: dict[str, float]
    ) -> Iterator[str]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, TextIteratorStreamer

        ids, _ = self._prompt_ids(conversation, params)
        inputs = self._batch_inputs([ids])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = _Cancel()
        kwargs = self._generate_kwargs(params)
        kwargs.update(streamer=streamer, stopping_criteria=StoppingCriteriaList([cancel]))
        if copy is not None:
            constraint = self._constraint([copy], inputs["input_ids"].shape[1], params)
            kwargs.update(logits_processor=LogitsProcessorList([constraint]))
        errors: list[BaseException] = []

        def work() -> None:
            try:
                if params.temperature > 0:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    generated = self.model.generate(
                        **inputs, **kwargs, output_scores=True, return_dict_in_generate=True
                    )
                    new = generated.sequences[:, inputs["input_ids"].shape[1] :]
                    logprobs = _token_logprobs(generated.scores, new)[0]
                extra.update(self._confidence(logprobs, new[0].tolist()))
                _, n_out, reason = self._finish(new[0].tolist(), params)
                # What `generate` reports in GenerationResult, for a caller that needs usage and finish_reason.
                extra.update(tokens_in=float(len(ids)), tokens_out=float(n_out), hit_length=float(reason == "length"))
            except BaseException as exc:  # re-raised in the reader's thread below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, name="ragtune-generate", daemon=True)
        thread.start()
        try:
            yield from _cut_stream(streamer, params.stop)
        finally:
            cancel.event.set()  # the reader stopped (or finished): let generation end early
            thread.join()
        if errors:
            raise errors[0]


def _token_logprobs(scores: Sequence[Any], new_tokens: Any) -> Any:
    """(rows, steps) log-probabilities of the generated tokens under the scores they were chosen from.

    With a copy constraint the scores are the constrained ones, so this is the model's confidence among the spans
    it was allowed.
    """
    import torch

    steps = min(len(scores), new_tokens.shape[1])
    if steps == 0:
        return torch.zeros((new_tokens.shape[0], 1))
    stacked = torch.stack([s.float() for s in scores[:steps]], dim=1)  # rows, steps, vocab
    chosen = new_tokens[:, :steps].unsqueeze(-1)
    return torch.log_softmax(stacked, dim=-1).gather(-1, chosen).squeeze(-1).clamp(min=-50.0)


def _cut_stream(pieces: Iterator[str], stop: Sequence[str]) -> Iterator[str]:
    """Pass text through until a stop sequence; text that could be the start of one is held back until it is not."""
    stops = [s for s in stop if s]
    if not stops:
        yield from (p for p in pieces if p)
        return
    hold = max(len(s) for s in stops) - 1
    buffer = ""
    for piece in pieces:
        buffer += piece
        text, hit = apply_stop(buffer, stops)
        if hit:
            if text:
                yield text
            return
        if len(buffer) > hold:
            cut = len(buffer) - hold
            yield buffer[:cut]
            buffer = buffer[cut:]
    if buffer:
        yield buffer
