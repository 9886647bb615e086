"""Benchmark: training throughput of the U-Net (patches/s, step time, peak memory), CPU and CUDA.

Self-contained: writes synthetic shards (vocalmine/testing/shards.py songs, tiled) to a
temp dir; needs no data and no network. Each variant runs in a fresh
subprocess so that its peak memory is its own:

- ``loader``: the trainer's DataLoader alone (memmapped waveform shards, random
  remixed crops, batched reads, transfer to the device, the batch STFTs and
  targets on the device), no model;
- ``plain-fp32``: the baseline a user would write: per-example crops with a
  NumPy STFT per example in the loader, default collate, fp32 model, F.l1_loss;
- ``trainer-*``: vocalmine's trainer itself (``train_run``), loader + model,
  steady-state throughput read from its metrics.csv: on CPU fp32 and bf16 +
  channels_last (``precision=auto`` on a bf16 CPU); on CUDA fp32, bf16 autocast,
  bf16 + channels_last, and bf16 + channels_last + torch.compile. Every trainer
  variant runs the same seed, data and steps: its validation L1 at the end is
  printed beside fp32's (precision parity);
- ``conv``: the machine's conv throughput on the same FLOPs: the U-Net's 12
  conv layers run alone as plain layers, forward + backward, GFLOP/s, to
  compare the trainer's achieved GFLOP/s with ("within 20%" is the CPU target).

    .venv/bin/python bench/bench_training.py [--device auto|cpu|cuda] [--batch-size N] [--steps N] [--workers N]

Targets: within 20% of the measured conv throughput on CPU; >= 5,000
patches/s on an H200 with the loader keeping up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vocalmine.core.constants import N_BINS, PATCH_FRAMES
from vocalmine.testing.shards import write_synthetic_shards
from vocalmine.model.unet import UNet
from vocalmine.core.contract.models import METRICS_FILE


# -- data ---------------------------------------------------------------------------------------

def make_shards(folder: Path, n_pairs: int = 8) -> None:
    """Synthetic waveform shards (vocalmine/testing/shards.py songs of 23 s): ``n_pairs`` train pairs, 2 validation pairs."""
    write_synthetic_shards(folder, splits={"train": n_pairs, "validation": 2}, seconds=23.0, pairs_per_shard=4, seed=11)


def unet_flops_per_patch(skips: bool = True) -> float:
    """FLOPs of one forward + backward pass of one patch, counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    model = UNet(skips=skips)
    x = torch.rand(1, 1, N_BINS, PATCH_FRAMES)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return float(counter.get_total_flops())


# -- variants (each in its own process) ---------------------------------------------------------

def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's over exec)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_loader(args, device) -> dict:
    """The trainer's loader alone: random remixed crops, waveform batches, batch STFTs and targets on ``device``."""
    from vocalmine.core.contract.shards import pairs_of
    from vocalmine.model.data import CropSampler, RemixConfig, WaveDataset, make_loader, read_index, split_rows
    from vocalmine.model.objective import batch_spectrograms

    pairs = pairs_of(split_rows(read_index(args.shards), "train"))
    sampler = CropSampler(pairs["samples"].to_numpy(), size=args.patches, seed=0, remix=RemixConfig())
    loader = make_loader(WaveDataset(args.shards, pairs), batch_size=args.batch_size, sampler=sampler,
                         workers=args.workers, pin_memory=device.type == "cuda")
    done, epoch = 0, 0
    target_batches = args.warmup + args.steps * 20  # the loader is cheap: time many more batches
    start = None
    while done < target_batches:
        sampler.set_position(epoch)
        for batch in loader:
            x, y, valid = batch_spectrograms({k: v.to(device, non_blocking=True) for k, v in batch.items()}, target="vocals")
            sync(device)
            done += 1
            if done == args.warmup:
                start = time.perf_counter()
            if done >= target_batches:
                break
        epoch += 1
    seconds = time.perf_counter() - start
    rate = (done - args.warmup) * args.batch_size / seconds
    return {"patches_per_s": rate, "step_ms": 1000 * args.batch_size / rate}


def run_plain(args, device) -> dict:
    """The baseline loop a user would write: per-example crops with a NumPy STFT per example, fp32 model."""
    from vocalmine.core.stft import magnitude, stft
    from vocalmine.core.contract.shards import open_shard, pairs_of
    from vocalmine.model.data import read_index, split_rows

    pairs = pairs_of(split_rows(read_index(args.shards), "train"))

    class Plain(torch.utils.data.Dataset):
        def __len__(self):
            return args.patches

        def __getitem__(self, i):
            row = pairs.iloc[i % len(pairs)]
            start = int(np.random.randint(0, max(1, row["samples"] - PATCH_FRAMES * 768)))
            wave = open_shard(args.shards, int(row["shard"]))[:, row["offset"] + start : row["offset"] + start + (PATCH_FRAMES - 1) * 768]
            mag = magnitude(stft(np.asarray(wave, np.float32)))[:, :, :PATCH_FRAMES] / row["scale"]
            return torch.from_numpy(mag[None, 0]), torch.from_numpy(np.maximum(mag[0] - mag[1], 0)[None])

    loader = torch.utils.data.DataLoader(Plain(), batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    torch.manual_seed(0)
    model = UNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    total = args.warmup + args.steps
    done, start = 0, None
    while done < total:
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = torch.nn.functional.l1_loss(model(x) * x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            float(loss)
            done += 1
            if done == args.warmup:
                start = time.perf_counter()
            if done >= total:
                break
    rate = args.steps * args.batch_size / (time.perf_counter() - start)
    return {"patches_per_s": rate, "step_ms": 1000 * args.batch_size / rate}


def run_trainer(args, device, *, precision: str, channels_last: bool, compile: bool) -> dict:
    from vocalmine.model.config import TrainConfig
    from vocalmine.model.train import train_run

    # metrics.csv gets a throughput row every `warmup` steps: the first window is the warm-up.
    every = max(1, args.warmup)
    config = TrainConfig(batch_size=args.batch_size, steps=every + -(-args.steps // every) * every, workers=args.workers,
                         log_every=every, checkpoint_every=10**6, precision=precision,
                         channels_last=channels_last, compile=compile, patience=10**3, epochs=10**3, epoch_patches=args.patches,
                         max_val_patches=0)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    summary = train_run(shards=args.shards, run_dir=run_dir, target="vocals", config=config, device=str(device))
    metrics = pd.read_csv(run_dir / METRICS_FILE).dropna(subset=["patches_per_s"])
    rate = statistics.median(metrics[metrics["step"] > every]["patches_per_s"])
    # same seed, same data and steps in every variant: the validation losses show precision parity
    return {"patches_per_s": rate, "step_ms": 1000 * args.batch_size / rate, "val_loss": summary.best_val_loss,
            "steps": summary.steps, "precision": summary.precision}


def run_conv(args, device) -> dict:
    """The machine's conv throughput on the U-Net's own work: its 12 conv layers, alone.

    Each Conv2d / ConvTranspose2d of the U-Net runs as a plain standalone layer
    on an input of the shape it sees at this batch size, forward + backward, in
    the variant's dtype; the fastest of several repetitions counts. Total FLOPs
    over total time is what plain convolutions of the same FLOPs achieve here,
    the bar for the trainer (whose extra work is batch norm, activations,
    concatenation, the loss, Adam and the loader). The best single layer is
    reported too.
    """
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    model = UNet().to(device)
    shapes: dict[torch.nn.Module, torch.Size] = {}
    def record(module, inputs, output) -> None:
        shapes[module] = inputs[0].shape

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        model(torch.rand(args.batch_size, 1, N_BINS, PATCH_FRAMES, device=device))
    for hook in hooks:
        hook.remove()
    total_flops, total_time, best = 0.0, 0.0, 0.0
    for module, shape in shapes.items():
        layer = copy.deepcopy(module).to(device, dtype)
        x = torch.rand(shape, device=device, dtype=dtype)
        if device.type == "cuda":
            layer, x = layer.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
        x.requires_grad_(shape[1] != 1)  # the U-Net needs no gradient for its input

        def step():
            layer(x).sum().backward()

        with FlopCounterMode(display=False) as counter:
            step()
        flops = counter.get_total_flops()
        step()
        times = []
        for _ in range(max(3, args.steps)):
            sync(device)
            start = time.perf_counter()
            step()
            sync(device)
            times.append(time.perf_counter() - start)
        total_flops, total_time = total_flops + flops, total_time + min(times)
        best = max(best, flops / min(times) / 1e9)
    return {"gflops": total_flops / total_time / 1e9, "best_layer_gflops": best}


VARIANTS = {
    "loader": lambda a, d: run_loader(a, d),
    "plain-fp32": lambda a, d: run_plain(a, d),
    "trainer-fp32": lambda a, d: run_trainer(a, d, precision="fp32", channels_last=False, compile=False),
    "trainer-bf16": lambda a, d: run_trainer(a, d, precision="bf16", channels_last=False, compile=False),
    "trainer-bf16-cl": lambda a, d: run_trainer(a, d, precision="bf16", channels_last=True, compile=False),
    "trainer-bf16-cl-compile": lambda a, d: run_trainer(a, d, precision="bf16", channels_last=True, compile=True),
    "conv": lambda a, d: run_conv(a, d),
}


def worker(args) -> None:
    device = torch.device(args.device)
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    result = VARIANTS[args.variant](args, device)
    result["peak_mb"] = peak_memory_mb(device)
    print("RESULT " + json.dumps(result), flush=True)


# -- driver -------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=0, help="default 16 on CPU (TrainConfig's), 64 on CUDA")
    parser.add_argument("--steps", type=int, default=0, help="measured steps (default 3 on CPU, 60 on CUDA)")
    parser.add_argument("--warmup", type=int, default=0, help="default 1 on CPU, 15 on CUDA")
    parser.add_argument("--workers", type=int, default=-1, help="loader workers (default 2 on CPU, 8 on CUDA)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: all usable cores)")
    parser.add_argument("--patches", type=int, default=0, help="random crops per epoch (default 256 CPU, 4096 CUDA)")
    parser.add_argument("--variants", default="", help="comma-separated subset of " + ",".join(VARIANTS))
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--shards", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        return worker(args)

    cuda = args.device.startswith("cuda") or (args.device == "auto" and torch.cuda.is_available())
    device = ("cuda" if args.device == "auto" else args.device) if cuda else "cpu"
    batch = args.batch_size or (64 if cuda else 16)
    steps = args.steps or (60 if cuda else 3)
    warmup = args.warmup or (15 if cuda else 1)
    workers = args.workers if args.workers >= 0 else (8 if cuda else 2)
    patches = args.patches or (4096 if cuda else 256)
    names = args.variants.split(",") if args.variants else (
        ["conv", "loader", "plain-fp32", "trainer-fp32", "trainer-bf16", "trainer-bf16-cl", "trainer-bf16-cl-compile"]
        if cuda else ["conv", "loader", "plain-fp32", "trainer-fp32", "trainer-bf16-cl"])
    flops = unet_flops_per_patch()
    print(f"device {device} ({torch.cuda.get_device_name() if cuda else f'{os.cpu_count()} CPUs'}), torch {torch.__version__}, "
          f"batch {batch}, {warmup} warm-up + {steps} measured steps, {workers} loader workers; "
          f"U-Net forward+backward {flops / 1e9:.2f} GFLOP per patch")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        shards = Path(tmp) / "shards"
        t0 = time.perf_counter()
        make_shards(shards)
        print(f"synthetic shards: 8 train pairs of 23 s, {patches} random crops per epoch, in {time.perf_counter() - t0:.1f} s")
        for name in names:
            cmd = [sys.executable, __file__, "--variant", name, "--shards", str(shards), "--device", device,
                   "--batch-size", str(batch), "--steps", str(steps), "--warmup", str(warmup),
                   "--workers", str(workers), "--threads", str(args.threads), "--patches", str(patches)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or "RESULT " not in proc.stdout:
                print(f"{name}: failed ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode})")
                continue
            results[name] = json.loads(proc.stdout.split("RESULT ", 1)[1])
    conv = results.get("conv", {}).get("gflops")
    base = results.get("plain-fp32", {}).get("patches_per_s")
    print(f"\n{'variant':26} {'patches/s':>10} {'step ms':>9} {'peak MB':>9} {'GFLOP/s':>9} {'vs conv':>8} {'vs plain':>9}")
    for name, r in results.items():
        if name == "conv":
            print(f"{'conv layers alone':26} {'':>10} {'':>9} {r['peak_mb']:9.0f} {conv:9.1f} {'1.00':>8} {'':>9}"
                  f"   (best single layer {r['best_layer_gflops']:.1f} GFLOP/s)")
            continue
        rate = r["patches_per_s"]
        model = name != "loader"
        gflops = rate * flops / 1e9 if model else float("nan")
        vs_conv = f"{gflops / conv:8.2f}" if model and conv else f"{'':>8}"
        vs_plain = f"{rate / base:8.2f}x" if base and name != "loader" else f"{'':>9}"
        print(f"{name:26} {rate:10.1f} {r['step_ms']:9.1f} {r['peak_mb']:9.0f} {gflops if model else float('nan'):9.1f} {vs_conv} {vs_plain}")
    trainers = {k: r for k, r in results.items() if k.startswith("trainer") and "val_loss" in r}
    if len(trainers) > 1:
        ref = trainers.get("trainer-fp32")
        for name, r in trainers.items():
            rel = f" ({r['val_loss'] / ref['val_loss'] - 1:+.1%} vs fp32)" if ref and name != "trainer-fp32" else ""
            speed = f", {r['patches_per_s'] / ref['patches_per_s']:.2f}x fp32's patches/s" if ref and name != "trainer-fp32" else ""
            print(f"{name}: validation L1 after {r['steps']} steps {r['val_loss']:.5f}{rel}{speed}")
    print(f"load average at the end: {os.getloadavg()}")
    if "loader" in results and any(k.startswith("trainer") for k in results):
        fastest = max(r["patches_per_s"] for k, r in results.items() if k.startswith("trainer"))
        print(f"\nloader alone serves {results['loader']['patches_per_s'] / fastest:.1f}x what the fastest trainer variant consumes")


if __name__ == "__main__":
    main()
