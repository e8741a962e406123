"""ragtune: RAG, fine-tuning or both? Build all of them on your documents, measure them side by side, recommend one
and serve it."""

from __future__ import annotations

import os

# Before torch loads OpenMP: threads that spin while waiting make a 2-thread torch up to 10x slower than 1 thread
# when anything else wants the CPU (measured on the 2-core target with other work running). A user's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
