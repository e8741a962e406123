"""What every Trainer-based training run shows in the terminal: one progress bar with the latest loss on it.

The transformers Trainer (and sentence-transformers' trainers, which are Trainers) print each log as a raw Python
dict: on the bar's line when it draws one (`{'train_runtime': '0.78', ...}` at the end of every run), every
`logging_steps` without it. LoRA, reranker and embedder training all call `show_progress` so a user sees the same
quiet bar whichever they train.
"""

from __future__ import annotations

from typing import Any


def _loss_progress(label: str) -> Any:
    from transformers.trainer_callback import ProgressCallback

    class LossProgress(ProgressCallback):
        """The Trainer's tqdm bar, named, with the latest loss, eval loss and learning rate on it instead of printed
        dicts."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            from tqdm.auto import tqdm

            if state.is_world_process_zero:  # the parent's bar, with its name from the start
                self.training_bar = tqdm(total=state.max_steps, dynamic_ncols=True, desc=label)  # type: ignore[assignment]
            self.current_step = 0

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if not state.is_world_process_zero or self.training_bar is None or not logs:
                return
            post = {}
            for key in ("loss", "eval_loss", "learning_rate"):
                if key in logs:
                    post[key.replace("learning_rate", "lr")] = f"{logs[key]:.3g}"
            if post:
                self.training_bar.set_postfix(post, refresh=False)

    return LossProgress


def show_progress(trainer: Any, progress: bool, label: str) -> None:
    """With `progress`, the Trainer's bar is named `label` and carries the loss instead of printing dicts; without
    it, nothing prints (quiet means quiet: no per-step metric dicts either). `progress` must match the arguments'
    `disable_tqdm`."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    if progress:
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(_loss_progress(label)())
    else:
        trainer.remove_callback(PrinterCallback)
