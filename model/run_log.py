"""A run's metrics: metrics.csv (rewritten atomically) and TensorBoard scalars, written by rank 0."""

from __future__ import annotations

import io
import logging
import math
import shutil
import time
from pathlib import Path

import pandas as pd

from vocalmine.core.atomic import write_text_atomic
from vocalmine.core.contract.models import METRICS_FILE

logger = logging.getLogger(__name__)

TENSORBOARD_DIR = "tensorboard"
FLUSH_SECONDS = 10.0  # metrics.csv is rewritten (with an fsync) at most this often between forced flushes
# One row per logged event; train rows leave the val_* columns empty and vice versa.
COLUMNS = ("step", "epoch", "wall_s", "train_loss", "val_loss", "val_sdr", "lr", "patches_per_s")


class MetricsLog:
    """Collects metric rows and mirrors them to TensorBoard.

    Args:
        run_dir: the run folder (metrics.csv and tensorboard/ go there).
        resume_step: on resume, the checkpoint's step: rows after it (logged
            by the killed run after its last checkpoint) are dropped, here and
            in TensorBoard. None starts a fresh log, removing an old one.
        enabled: False on ranks other than 0 (nothing is written).
    """

    def __init__(self, run_dir: Path, *, resume_step: int | None, enabled: bool = True):
        self.path = run_dir / METRICS_FILE
        self.enabled = enabled
        self.rows: list[dict] = []
        self.writer = None
        self.flushed_at = 0.0
        if not enabled:
            return
        if resume_step is None:
            shutil.rmtree(run_dir / TENSORBOARD_DIR, ignore_errors=True)
        elif self.path.is_file():
            old = pd.read_csv(self.path)
            self.rows = old[old["step"] <= resume_step].to_dict("records")
        from torch.utils.tensorboard import SummaryWriter  # imported late: it pulls in tensorboard

        self.writer = SummaryWriter(str(run_dir / TENSORBOARD_DIR),
                                    purge_step=None if resume_step is None else resume_step + 1)

    def log(self, *, step: int, epoch: int, wall_s: float, **values: float) -> None:
        """Record one row (keys of COLUMNS) and its TensorBoard scalars."""
        if not self.enabled:
            return
        unknown = set(values) - set(COLUMNS)
        assert not unknown, unknown
        self.rows.append({"step": step, "epoch": epoch, "wall_s": round(wall_s, 3), **values})
        tags = {"train_loss": "loss/train", "val_loss": "loss/validation", "val_sdr": "sdr_proxy/validation",
                "lr": "lr", "patches_per_s": "throughput/patches_per_s"}
        for key, value in values.items():
            if value is not None and math.isfinite(value):
                self.writer.add_scalar(tags[key], value, step)

    def flush(self, *, force: bool = True) -> None:
        """Rewrite metrics.csv atomically with every row so far, and flush TensorBoard.

        Unforced flushes (after train rows) are skipped within FLUSH_SECONDS of
        the last one, so a fast GPU run does not fsync a growing file each step.
        """
        if not self.enabled or (not force and time.monotonic() - self.flushed_at < FLUSH_SECONDS):
            return
        self.flushed_at = time.monotonic()
        frame = pd.DataFrame(self.rows, columns=list(COLUMNS))
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        write_text_atomic(self.path, buffer.getvalue())
        self.writer.flush()

    def close(self) -> None:
        """Flush and close (rows past the last checkpoint are dropped again on resume)."""
        if self.writer is not None:
            self.flush()
            self.writer.close()
