"""Training one separation model (vocals or instrumental) from the shards.

One entry point for one process, several CPU/GPU processes under torchrun
(DDP), and a resumed run. Rank 0 alone writes the run folder:
``best.pt`` (lowest validation loss), ``last.pt`` (resume point, saved every
``checkpoint_every`` steps and at each epoch end), ``metrics.csv``,
``tensorboard/``.

Exact resume: a checkpoint holds the weights, Adam's and the scaler's state,
every rank's RNG state and the position inside the epoch; the data order is a
pure function of (seed, epoch). A run killed after its last checkpoint and
resumed computes the same next-step loss as a run that was never killed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from vocalmine.core.atomic import remove_stale_temps
from vocalmine.core.catalog import DataCatalog
from vocalmine.core.errors import ConfigError, NothingUsableError
from vocalmine.core.lock import holding
from vocalmine.core.progress import progress
from vocalmine.model import distributed
from vocalmine.model.averaging import WeightAverage
from vocalmine.model.checkpoint import TARGETS, checkpoint_spec, load_checkpoint, make_payload, save_checkpoint
from vocalmine.model.config import TrainConfig, check_resumable
from vocalmine.core.contract.shards import pairs_of, read_spec
from vocalmine.model.data import (
    CropSampler, RemixConfig, WaveDataset, grid_recipes, make_loader, read_index, split_rows,
)
from vocalmine.model.device import autocast_dtype, pick_device, resolve_precision, set_cpu_threads
from vocalmine.model.objective import batch_spectrograms, l1_sums, masked_l1, sdr_sums
from vocalmine.model.run_log import MetricsLog
from vocalmine.model.unet import UNet
from vocalmine.core.contract.models import BEST_CHECKPOINT, LAST_CHECKPOINT, run_folder

logger = logging.getLogger(__name__)

BEST, LAST = BEST_CHECKPOINT, LAST_CHECKPOINT


@dataclass(frozen=True)
class TrainSummary:
    """What a training run did and reached."""

    run_dir: Path  # folder with best.pt, last.pt, metrics.csv, tensorboard/
    target: str  # vocals | instrumental
    skips: bool  # False for the no-skip baseline
    device: str  # e.g. "cpu", "cuda:0"
    world_size: int  # processes (DDP ranks)
    steps: int  # optimizer steps done in total (including before a resume)
    epochs: int  # epochs completed
    stopped: str  # why it ended: steps | minutes | epochs | early_stopping
    train_patches: int  # grid patches in the train split (an epoch draws epoch_patches random crops)
    val_patches: int  # validation patches evaluated each epoch
    best_step: int  # step of best.pt
    best_val_loss: float  # validation L1 of best.pt (NaN without validation patches)
    best_val_sdr: float  # validation SDR proxy of best.pt, dB
    identity_val_loss: float  # validation L1 of the identity mask (mask = 1), the bar to beat
    identity_val_sdr: float  # validation SDR proxy of the identity mask, dB
    seconds: float  # wall time of this invocation
    patches_per_s: float  # training patches per second in this invocation, all ranks
    weights_digest: str  # sha256 of the final weights (equal on every rank under DDP)
    precision: str = "fp32"  # the precision trained in: fp32 | bf16 | fp16
    patches_seen: int = 0  # training crops seen in total (including before a resume), all ranks
    trained_minutes: float = 0.0  # training time in total (including before a resume), validation excluded

    def describe(self) -> str:
        """A few lines for the terminal."""
        return (
            f"trained {self.run_dir.name} on {self.device} x{self.world_size} ({self.precision}): {self.steps} steps, "
            f"{self.epochs} epochs, stopped by {self.stopped} "
            f"({self.seconds:.0f} s, {self.patches_per_s:.1f} patches/s)\n"
            f"validation L1 {self.best_val_loss:.5f} at step {self.best_step} "
            f"vs identity mask {self.identity_val_loss:.5f}; "
            f"SDR proxy {self.best_val_sdr:.2f} dB vs {self.identity_val_sdr:.2f} dB\n"
            f"best: {self.run_dir / BEST}"
        )


def run_name(target: str, skips: bool, model_set: str | None = None) -> str:
    """Folder name of a run under catalog.models: the target, "-noskip" for the baseline, "-NAME" for model set NAME."""
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {TARGETS}, got {target!r}")
    if model_set is not None and (not model_set or not model_set.replace("-", "").replace("_", "").isalnum()):
        raise ConfigError(f"model set {model_set!r}: expected letters, digits, '-' or '_'")
    return run_folder(target, model_set or ("unet" if skips else "baseline"))


def train(
    *, catalog: DataCatalog, target: str, config: TrainConfig | None = None, overrides: Mapping[str, Any] | None = None,
    device: str = "auto", resume: bool = False, model_set: str | None = None,
) -> TrainSummary:
    """Train the ``target`` model from catalog.shards into catalog.models/<run name>.

    Args:
        catalog: the data catalog (shards folder in, models folder out).
        target: "vocals" or "instrumental".
        config: hyper-parameters and run settings; None: the defaults, or, when
            resuming, the settings the run was started with (see :func:`run_config`).
        overrides: fields that replace those of ``config`` (CLI strings are coerced).
        device: "auto" (CUDA when present), "cpu", "cuda" or "cuda:N".
        resume: continue from the run folder's last.pt (fresh start, with a
            warning, when there is none).
        model_set: train into models/<target>-<model_set> (None: the U-Net's or the baseline's folder).

    Raises:
        ConfigError: wrong target, bad device, or a checkpoint that cannot be resumed.
        NothingUsableError: no train patches in the shards.
    """
    config = run_config(models=catalog.models, target=target, config=config, overrides=overrides or {}, resume=resume,
                        model_set=model_set)
    run_dir = catalog.models / run_name(target, config.skips, model_set)
    return train_run(shards=catalog.shards, run_dir=run_dir, target=target, config=config, device=device, resume=resume)


def run_config(*, models: Path, target: str, config: TrainConfig | None, overrides: Mapping[str, Any], resume: bool,
               model_set: str | None = None) -> TrainConfig:
    """The settings of a run: ``config`` (or the defaults) with ``overrides``; a resumed run
    started without an explicit ``config`` keeps the settings it was started with, and only
    ``overrides`` replace them.
    """
    merged = TrainConfig.from_dict({**(config or TrainConfig()).to_dict(), **overrides})
    last = models / run_name(target, merged.skips, model_set) / LAST
    if resume and config is None and last.is_file():
        merged = TrainConfig.from_dict({**resume_config(last).to_dict(), **overrides})
    return merged


# Rank 0 alone holds the run folder: under torchrun the other ranks share its run, and a refused
# rank 0 ends the whole job (torchrun stops the others).
@holding("train", lambda run_dir, **_: run_dir if distributed.detect().is_main else None)
def train_run(
    *, shards: Path, run_dir: Path, target: str, config: TrainConfig, device: str = "auto", resume: bool = False
) -> TrainSummary:
    """:func:`train` on explicit folders (tests, benchmarks); same arguments otherwise."""
    run_name(target, config.skips)
    env = distributed.detect()
    dev = pick_device(device, env)
    created = distributed.init(env, dev)
    try:
        return _Run(Path(shards), Path(run_dir), target, config, dev, env).fit(resume)
    finally:
        distributed.shutdown(created)


def resume_config(last: Path) -> TrainConfig:
    """The config a run was started with, read from its checkpoint (for resuming it)."""
    return TrainConfig.from_dict(load_checkpoint(last)["config"])


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 over the state dict's tensors in key order."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _seed_for(seed: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


class _Run:
    """State of one run in one process; :meth:`fit` is the whole procedure."""

    def __init__(self, shards: Path, run_dir: Path, target: str, config: TrainConfig, device: torch.device, env):
        self.shards, self.run_dir, self.target = shards, run_dir, target
        self.config, self.device, self.env = config, device, env
        self.cuda = device.type == "cuda"
        self.precision = resolve_precision(config.precision, device)
        self.amp_dtype = autocast_dtype(config.precision, device)
        # channels_last pays on CUDA, and on CPU under bf16 (oneDNN's blocked bf16 convolutions)
        self.channels_last = config.channels_last and (self.cuda or self.amp_dtype == torch.bfloat16)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        else:
            set_cpu_threads(config.threads, env)
        index = read_index(shards)
        self.spec = read_spec(shards)  # the shards decide the model's rate, channels and transform
        self.train_rows = split_rows(index, "train")
        self.train_pairs = pairs_of(self.train_rows)
        self.val_pairs = pairs_of(split_rows(index, "validation"))
        self.val_recipes = grid_recipes(self.val_pairs, self.spec)
        if 0 < config.max_val_patches < len(self.val_recipes):  # a fixed random subset, the same for a seed
            pick = np.sort(np.random.default_rng(config.seed).choice(len(self.val_recipes), config.max_val_patches,
                                                                     replace=False))
            self.val_recipes = [self.val_recipes[k] for k in pick]
        self.val_rows = self.val_recipes
        if self.train_rows.empty:
            raise NothingUsableError(f"{shards}/index.parquet: no patches in the train split (nothing to train on)")
        if not self.val_recipes:
            logger.warning("%s: no validation patches: no early stopping, best.pt follows last.pt", shards)

    # -- setup -----------------------------------------------------------------------------

    def _load_resume_point(self, resume: bool) -> dict | None:
        last = self.run_dir / LAST
        if not resume:
            if self.env.is_main and last.is_file():
                logger.warning("%s: starting afresh, replacing the previous run (pass --resume to continue it)",
                               self.run_dir)
            return None
        if not last.is_file():
            logger.warning("%s: nothing to resume (no %s): starting afresh", self.run_dir, LAST)
            return None
        payload = load_checkpoint(last, expected_target=self.target)
        if payload["model_kwargs"].get("skips") != self.config.skips:
            raise ConfigError(f"{last}: model has skips={payload['model_kwargs'].get('skips')}, config asks for "
                              f"skips={self.config.skips}")
        check_resumable(payload["config"], self.config, source=str(last))
        if checkpoint_spec(payload) != self.spec:
            raise ConfigError(f"{last}: trained at {checkpoint_spec(payload).describe()}, but the shards are "
                              f"{self.spec.describe()}: train afresh (without --resume) "
                              "or use the shards it was trained on")
        return payload

    def _build(self, payload: dict | None) -> None:
        torch.manual_seed(self.config.seed)  # same initial weights on every rank
        self.model = UNet(skips=self.config.skips, in_channels=self.spec.channels)
        if payload is not None:
            self.model.load_state_dict(payload["state_dict"])
        self.model.to(self.device)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        if payload is not None:
            self.optimizer.load_state_dict(payload["optimizer"])
            if payload.get("scaler"):
                self.scaler.load_state_dict(payload["scaler"])
        net: torch.nn.Module = self.model
        if self.env.distributed:
            net = DistributedDataParallel(self.model, device_ids=[self.device.index] if self.cuda else None)
        self.net = torch.compile(net) if self.config.compile else net

        extra = payload["extra"] if payload is not None else {}
        self.average = WeightAverage(self.model, self.config.ema_decay) if self.config.ema_decay else None
        if self.average is not None and extra.get("weight_average"):
            self.average.load_state_dict(extra["weight_average"])
        self.step = payload["step"] if payload is not None else 0
        self.epoch = payload["epoch"] if payload is not None else 0
        self.batch_in_epoch = extra.get("batch_in_epoch", 0)
        self.trained_s = float(extra.get("trained_s", 0.0))
        self.patches_seen = int(extra.get("patches_seen", self.step * self.config.batch_size * self.env.world_size))
        self.best = {k: extra.get(k, d) for k, d in
                     (("best_val_loss", math.inf), ("best_val_sdr", math.nan), ("best_step", 0), ("bad_epochs", 0))}
        self.identity = (extra.get("identity_val_loss"), extra.get("identity_val_sdr"))
        rng = extra.get("rng")
        if rng is not None and len(rng["torch"]) == self.env.world_size:
            torch.set_rng_state(rng["torch"][self.env.rank])
            if self.cuda and rng["cuda"][self.env.rank] is not None:
                torch.cuda.set_rng_state(rng["cuda"][self.env.rank], self.device)
        else:
            if rng is not None:
                logger.warning("resuming %d-process RNG state with %d processes: dropout differs", len(rng["torch"]),
                               self.env.world_size)
            torch.manual_seed(_seed_for(self.config.seed, self.env.rank))

    def _loaders(self) -> None:
        cfg, env = self.config, self.env
        remix = RemixConfig(remix=cfg.remix, probability=cfg.remix_probability, other_pair=cfg.remix_other_pair,
                            gain_db=cfg.remix_gain_db, wrap=cfg.remix_wrap,
                            pitch_semitones=cfg.remix_pitch_semitones)
        self.sampler = CropSampler(self.train_pairs["samples"].to_numpy(),
                                   size=cfg.epoch_patches or len(self.train_rows),
                                   seed=cfg.seed, remix=remix, rank=env.rank, world_size=env.world_size, spec=self.spec)
        self.loader = make_loader(WaveDataset(self.shards, self.train_pairs, self.spec), batch_size=cfg.batch_size,
                                  sampler=self.sampler, workers=cfg.workers, pin_memory=self.cuda)
        self.steps_per_epoch = math.ceil(self.sampler.per_rank() / cfg.batch_size)
        val_recipes = self.val_recipes[env.rank :: env.world_size]  # no padding: exact sums
        self.val_loader = make_loader(WaveDataset(self.shards, self.val_pairs, self.spec), batch_size=cfg.batch_size,
                                      sampler=val_recipes, workers=min(cfg.workers, 1), pin_memory=self.cuda)

    # -- steps -----------------------------------------------------------------------------

    def _batch(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        x, y, valid = batch_spectrograms(batch, target=self.target, spec=self.spec)
        inp = x.contiguous(memory_format=torch.channels_last) if self.channels_last else x
        return x, y, valid, inp

    def _forward(self, net: torch.nn.Module, inp: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                            enabled=self.amp_dtype is not None):
            return net(inp).float()

    def train_step(self, batch: dict) -> torch.Tensor:
        """One optimizer step on ``batch``; the loss (detached, on the device)."""
        x, y, valid, inp = self._batch(batch)
        loss = masked_l1(self._forward(self.net, inp), x, y, valid)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.average is not None:
            self.average.update(self.model)
        return loss.detach()

    def _out_of_time(self) -> bool:
        """True when the time budget is spent (on any rank: all ranks stop together)."""
        if not self.config.minutes:
            return False
        over = torch.tensor(float(self.trained_s >= self.config.minutes * 60), device=self.device)
        return distributed.all_sum([over], self.env)[0] > 0

    def learning_rate(self) -> float:
        """The scheduled learning rate of the next step: constant, or cosine over steps (or over the time budget)."""
        cfg = self.config
        if cfg.schedule == "constant":
            return cfg.lr
        if cfg.steps:
            progress = self.step / cfg.steps
        elif cfg.schedule_minutes or cfg.minutes:
            progress = self.trained_s / ((cfg.schedule_minutes or cfg.minutes) * 60)
        else:
            progress = self.step / max(cfg.epochs * self.steps_per_epoch, 1)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))

    @property
    def validated_model(self) -> torch.nn.Module:
        """The weights validation scores and best.pt keeps: the moving average when there is one."""
        return self.average.module if self.average is not None else self.model

    @torch.no_grad()
    def evaluate(self, *, identity: bool = False) -> tuple[float, float]:
        """Validation L1 and SDR proxy over all ranks; ``identity`` scores mask = 1 instead."""
        if not self.val_recipes:
            return math.nan, math.nan
        # The plain module, not DDP: ranks may hold different numbers of validation batches.
        model = self.validated_model
        distributed.broadcast_buffers(model, self.env)
        model.eval()
        totals = [torch.zeros((), device=self.device) for _ in range(4)]
        for batch in self.val_loader:
            x, y, valid, inp = self._batch(batch)
            mask = torch.ones_like(x) if identity else self._forward(model, inp)
            for i, value in enumerate((*l1_sums(mask, x, y, valid), *sdr_sums(mask, x, y, valid))):
                totals[i] += value
        model.train()
        error, count, sdr, patches = distributed.all_sum(totals, self.env)
        return error / max(count, 1.0), (sdr / patches if patches else math.nan)

    # -- checkpoints -----------------------------------------------------------------------

    def _save(self, names: tuple[str, ...], val_loss: float) -> None:
        rng = {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(self.device) if self.cuda else None}
        ranks = distributed.gather_objects(rng, self.env)  # collective: every rank calls _save
        if not self.env.is_main:
            return
        extra = {**self.best, "batch_in_epoch": self.batch_in_epoch, "val_loss": val_loss,
                 "trained_s": self.trained_s, "patches_seen": self.patches_seen,
                 "identity_val_loss": self.identity[0], "identity_val_sdr": self.identity[1],
                 "world_size": self.env.world_size,
                 "rng": {"torch": [r["torch"] for r in ranks], "cuda": [r["cuda"] for r in ranks]}}
        if self.average is not None:
            extra["weight_average"] = self.average.state_dict()
        payload = make_payload(model=self.model, target=self.target, config=self.config.to_dict(), step=self.step,
                               epoch=self.epoch, optimizer=self.optimizer.state_dict(), scaler=self.scaler.state_dict(),
                               extra=extra,
                               spec=self.spec)
        for name in names:
            if name == BEST and self.average is not None:  # best.pt carries the validated weights, once
                weights = extra["weight_average"]["weights"]
                save_checkpoint(self.run_dir / name, {**payload, "state_dict": weights, "extra": {
                    k: v for k, v in extra.items() if k != "weight_average"}})
            else:
                save_checkpoint(self.run_dir / name, payload)

    def _validate_and_save(self, *, wall: float, epoch_done: bool) -> bool:
        """Validation, best/last checkpoints, metrics; True when early stopping says stop."""
        val_loss, val_sdr = self.evaluate()
        if epoch_done:
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        improved = math.isnan(val_loss) or val_loss < self.best["best_val_loss"] - self.config.min_delta
        if improved:
            self.best.update(best_val_loss=val_loss, best_val_sdr=val_sdr, best_step=self.step, bad_epochs=0)
        elif epoch_done:
            self.best["bad_epochs"] += 1
        self.metrics.log(step=self.step, epoch=self.epoch, wall_s=wall, val_loss=val_loss, val_sdr=val_sdr)
        self._save((LAST, BEST) if improved else (LAST,), val_loss)
        self.metrics.flush()
        logger.info("step %d epoch %d: validation L1 %.5f, SDR proxy %.2f dB%s", self.step, self.epoch,
                    val_loss, val_sdr, " (best)" if improved else "")
        return self.best["bad_epochs"] >= self.config.patience

    # -- the loop --------------------------------------------------------------------------

    def fit(self, resume: bool) -> TrainSummary:
        payload = self._load_resume_point(resume)
        if self.env.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.run_dir)
            if payload is None:
                for name in (BEST, LAST):
                    (self.run_dir / name).unlink(missing_ok=True)
        distributed.barrier(self.env)
        self._build(payload)
        self._loaders()
        self.metrics = MetricsLog(self.run_dir, resume_step=self.step if payload else None, enabled=self.env.is_main)
        try:
            return self._loop()
        finally:
            self.metrics.close()

    def _loop(self) -> TrainSummary:
        cfg, env = self.config, self.env
        if self.identity[0] is None:
            self.identity = self.evaluate(identity=True)
            logger.info("identity mask: validation L1 %.5f, SDR proxy %.2f dB", *self.identity)
        total = cfg.steps or cfg.epochs * self.steps_per_epoch
        bar = progress(total=total, desc=f"train {self.run_dir.name}", unit="step")
        bar.update(min(self.step, total))
        started = time.perf_counter()
        done_patches, window_loss, window_steps, window_patches = 0, torch.zeros((), device=self.device), 0, 0
        window_start = started
        stopped = ""
        tick = time.perf_counter()
        while not stopped:
            if cfg.steps and self.step >= cfg.steps:
                stopped = "steps"
                break
            if self._out_of_time():
                stopped = "minutes"
                break
            if self.epoch >= cfg.epochs:
                stopped = "epochs"
                break
            if self.best["bad_epochs"] >= cfg.patience:  # a resumed run that had already stopped early
                stopped = "early_stopping"
                break
            self.sampler.set_position(self.epoch, self.batch_in_epoch * cfg.batch_size)
            out_of_time = False
            for batch in self.loader:
                window_loss += self.train_step(batch)
                n = len(batch["valid"]) * env.world_size
                done_patches, window_steps, window_patches = done_patches + n, window_steps + 1, window_patches + n
                self.patches_seen += n
                now = time.perf_counter()
                self.trained_s, tick = self.trained_s + now - tick, now
                self.step, self.batch_in_epoch = self.step + 1, self.batch_in_epoch + 1
                bar.update(1)
                if self.step % cfg.log_every == 0:
                    now = time.perf_counter()
                    loss = distributed.all_sum([window_loss], env)[0] / (window_steps * env.world_size)
                    rate = window_patches / (now - window_start)
                    self.metrics.log(step=self.step, epoch=self.epoch, wall_s=now - started, train_loss=loss,
                                     lr=self.optimizer.param_groups[0]["lr"], patches_per_s=rate)
                    self.metrics.flush(force=False)
                    bar.set_postfix(loss=f"{loss:.5f}", patches_s=f"{rate:.1f}")
                    window_loss, window_steps, window_patches, window_start = torch.zeros((),
                                                                                          device=self.device), 0, 0, now
                if self.step % cfg.checkpoint_every == 0:
                    self._save((LAST,), math.nan)
                if cfg.steps and self.step >= cfg.steps:
                    break
                out_of_time = self._out_of_time()
                if out_of_time:
                    break
            epoch_done = self.batch_in_epoch >= self.steps_per_epoch
            if epoch_done or out_of_time or (cfg.steps and self.step >= cfg.steps):
                paused = time.perf_counter()
                if self._validate_and_save(wall=paused - started, epoch_done=epoch_done):
                    stopped = "early_stopping"
                window_start += time.perf_counter() - paused  # throughput counts training time only
            tick = time.perf_counter()  # validation and the loader's epoch start-up are not training time
        bar.close()
        distributed.broadcast_buffers(self.model, env)
        seconds = time.perf_counter() - started
        summary = TrainSummary(
            run_dir=self.run_dir, target=self.target, skips=cfg.skips, device=str(self.device),
            world_size=env.world_size,
            steps=self.step, epochs=self.epoch, stopped=stopped, train_patches=len(self.train_rows),
            val_patches=len(self.val_rows), best_step=self.best["best_step"], best_val_loss=self.best["best_val_loss"],
            best_val_sdr=self.best["best_val_sdr"], identity_val_loss=self.identity[0],
            identity_val_sdr=self.identity[1],
            seconds=seconds, patches_per_s=done_patches / seconds if seconds > 0 else 0.0,
            weights_digest=weights_digest(self.model), precision=self.precision, patches_seen=self.patches_seen,
            trained_minutes=self.trained_s / 60,
        )
        if env.is_main:
            logger.info("%s", summary.describe())
        return summary
