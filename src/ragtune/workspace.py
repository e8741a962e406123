"""Where a project's artifacts live: one workspace folder (./.ragtune by default) holds them all.

Model caches are not here: they live in the user's cache folder and are shared by every workspace
(see `ragtune.models.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def store_dir(self) -> Path:
        """The embedded store (LanceDB) and its sync journal."""
        return self.root / "store"

    @property
    def adapters_dir(self) -> Path:
        return self.root / "adapters"

    @property
    def runs_dir(self) -> Path:
        """Cached stages of comparisons, so a re-run continues where a crash stopped it."""
        return self.root / "runs"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def calibration_file(self) -> Path:
        """Refusal thresholds fitted by `ragtune calibrate`."""
        return self.root / "calibration.json"

    def ensure(self) -> Workspace:
        for folder in (self.root, self.store_dir, self.adapters_dir, self.runs_dir, self.reports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def new_report_dir(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = self.reports_dir / stamp
        suffix = 1
        while path.exists():
            suffix += 1
            path = self.reports_dir / f"{stamp}-{suffix}"
        return path

    def latest_report_dir(self) -> Path | None:
        if not self.reports_dir.is_dir():
            return None
        candidates = sorted(p for p in self.reports_dir.iterdir() if (p / "report.html").is_file())
        return candidates[-1] if candidates else None

    def latest_adapter(self, kind: str = "finetune") -> Path | None:
        """The newest adapter folder of `kind` ('finetune' or 'hybrid') that has a manifest."""
        folder = self.adapters_dir / kind
        if not folder.is_dir():
            return None
        candidates = sorted(
            (p for p in folder.iterdir() if (p / "ragtune_manifest.json").is_file()), key=lambda p: p.stat().st_mtime
        )
        return candidates[-1] if candidates else None
