"""Benchmark: the full MIR-1K experiment, mine -> build -> train -> evaluate.

1. Catalog: every MIR-1K train and dev clip becomes an (original, instrumental)
   release pair: the original is the mixture (FLAC, 22.05 kHz), the instrumental
   its accompaniment channel (WAV, 44.1 kHz) shifted by a random offset (the
   instrumental's content lags by -0.4..0.4 s) and scaled by a random gain
   (-3..+3 dB), as real releases are neither aligned nor equally loud.
   Artist = singer + song number, so the artist split has groups to split.
2. vocalmine.mining.pipeline.mine, vocalmine.features.pipeline.build (train /
   validation split of those clips: dev for tuning; test never seen).
3. vocalmine.model.trainer.train: vocals + instrumental U-Nets and their no-skip
   baselines, each within --steps optimizer steps.
4. vocalmine.evaluation.evaluate on the 825 MIR-1K test clips: unet, baseline,
   mixture and oracle-irm; GNSDR/GSIR/GSAR for vocals and accompaniment beside
   the published anchors (vocal GNSDR: DRNN 7.45 dB, SH-4stack 10.51 dB).

    .venv/bin/python bench/bench_mir1k.py --work /tmp/vocalmine-mir1k [--steps 600] [--batch-size 16] [--device auto]

Each stage resumes from the work folder (--fresh starts over). Writes
WORK/results.md. No number here is tuned on the test split.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_evaluate", HERE / "bench_evaluate.py")
bench_evaluate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_evaluate)
MIR1K = bench_evaluate.MIR1K
SR = 8192

ANCHORS = {  # published vocal results on the MIR-1K test split (GNSDR, dB; 16 kHz)
    "DRNN (Huang et al. 2014)": 7.45,
    "SH-4stack (Park et al. 2018)": 10.51,
}
MAX_OFFSET_S = 0.4  # |offset| of the instrumental's content, seconds
MAX_GAIN_DB = 3.0  # |gain| between the original's accompaniment and the instrumental, dB


def build_corpus(work: Path, *, seed: int = 0, limit: int = 0) -> Path:
    """Write the release catalog (catalog.csv + audio + truth.csv) of the train and dev clips."""
    corpus = work / "corpus"
    if (corpus / "catalog.csv").is_file():
        return corpus
    rng = np.random.default_rng(seed)
    clips = pd.read_csv(MIR1K / "clips.csv")
    clips = clips[clips["split"].isin(["train", "dev"])].sort_values("clip")
    if limit:  # smoke runs only
        clips = clips.iloc[:: max(1, len(clips) // limit)].head(limit)
    rows, truth = [], []
    for k, (clip, split) in enumerate(zip(clips["clip"], clips["split"])):
        data, sr = sf.read(MIR1K / split / f"{clip}.flac", dtype="float32", always_2d=True)
        acc, voc = data[:, 0], data[:, 1]
        singer, song, part = clip.rsplit("_", 2)
        offset = float(rng.uniform(-MAX_OFFSET_S, MAX_OFFSET_S))
        gain = float(10 ** (rng.uniform(-MAX_GAIN_DB, MAX_GAIN_DB) / 20))
        original = 0.5 * (acc + voc)
        inst = 0.5 * acc / gain
        shift = int(round(abs(offset) * SR))
        # instrumental(t + offset) = accompaniment(t) / gain: a lead-in of silence, or a cut start
        inst = np.concatenate([np.zeros(shift, np.float32), inst]) if offset > 0 else inst[shift:]
        o_path, i_path = f"audio/{clip}.flac", f"audio/{clip}_instrumental.wav"
        (corpus / "audio").mkdir(parents=True, exist_ok=True)
        sf.write(corpus / o_path, soxr.resample(original, SR, 22050), 22050, subtype="PCM_16")
        sf.write(corpus / i_path, soxr.resample(inst.astype(np.float32), SR, 44100), 44100, subtype="PCM_16")
        artist = f"{singer} song {song}"
        rows.append({"track_id": f"O{k:04d}", "artist": artist, "title": f"Part {part}",
                     "duration": round(len(original) / SR, 3), "audio_path": o_path})
        rows.append({"track_id": f"I{k:04d}", "artist": artist, "title": f"Part {part} (Instrumental)",
                     "duration": round(len(inst) / SR, 3), "audio_path": i_path})
        truth.append({"clip": clip, "original_id": f"O{k:04d}", "instrumental_id": f"I{k:04d}", "offset_s": offset, "gain": gain})
    pd.DataFrame(truth).to_csv(corpus / "truth.csv", index=False)
    pd.DataFrame(rows).to_csv(corpus / "catalog.csv", index=False)
    return corpus


def hardware(device: str) -> str:
    import torch

    cpu = f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), torch {torch.__version__}"
    if torch.cuda.is_available() and device != "cpu":
        return f"{torch.cuda.get_device_name(0)}; {cpu}"
    return f"CPU only; {cpu}, {torch.get_num_threads()} torch threads"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-mir1k"), help="work folder (corpus, artifacts, results)")
    parser.add_argument("--steps", type=int, default=600, help="training budget: optimizer steps per model")
    parser.add_argument("--batch-size", type=int, default=16, help="patches per step")
    parser.add_argument("--device", default="auto", help="training device: auto, cpu, cuda")
    parser.add_argument("--eval-device", default="cpu", help="device of the models inside the Dask evaluation workers")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (build, evaluate)")
    parser.add_argument("--seed", type=int, default=0, help="offsets/gains, split and training seed")
    parser.add_argument("--smoke", type=int, default=0, metavar="N",
                        help="smoke run: N train clips and N test clips (the figures mean nothing)")
    parser.add_argument("--fresh", action="store_true", help="delete the work folder first")
    args = parser.parse_args()
    if not (MIR1K / "clips.csv").is_file():
        print(f"skipped: MIR-1K not found at {MIR1K}")
        return 0
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)

    from vocalmine.core.catalog import load_catalog
    from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate
    from vocalmine.evaluation.tables import global_table, markdown
    from vocalmine.features.config import FeaturesConfig
    from vocalmine.features.pipeline import build
    from vocalmine.mining.pipeline import mine
    from vocalmine.model.config import TrainConfig
    from vocalmine.model.trainer import train

    timings: dict[str, float] = {}
    t = time.perf_counter()
    build_corpus(args.work, seed=args.seed, limit=args.smoke)
    eval_dir = args.work / "mir1k-test"
    bench_evaluate.write_mir1k_eval_set("test", eval_dir, limit=args.smoke or None)
    catalog = load_catalog(bench_evaluate.catalog_yaml(args.work, eval_dir))
    timings["corpus"] = time.perf_counter() - t

    t = time.perf_counter()
    mined = mine(catalog=catalog)
    timings["mine"] = time.perf_counter() - t
    pairs = pd.read_parquet(catalog.pairs)
    print(f"mine: {len(pairs)} pairs from {mined.rows_read} rows in {timings['mine']:.1f} s")

    t = time.perf_counter()
    built = build(catalog=catalog, config=FeaturesConfig(workers=args.workers, seed=args.seed, split_fractions=(0.9, 0.1, 0.0)))
    timings["build"] = time.perf_counter() - t
    print(f"build: {built} in {timings['build']:.1f} s")

    runs = {}
    for skips in (True, False):
        for target in ("vocals", "instrumental"):
            t = time.perf_counter()
            config = TrainConfig(steps=args.steps, batch_size=args.batch_size, skips=skips, seed=args.seed, workers=1)
            summary = train(catalog=catalog, target=target, config=config, device=args.device)
            name = f"{target}{'' if skips else '-noskip'}"
            timings[f"train {name}"] = time.perf_counter() - t
            runs[name] = {"steps": summary.steps, "stopped": summary.stopped, "device": summary.device,
                          "best_step": summary.best_step, "best_val_loss": summary.best_val_loss,
                          "identity_val_loss": summary.identity_val_loss, "seconds": timings[f"train {name}"]}
            print(f"train {name}: {runs[name]}")

    t = time.perf_counter()
    result = evaluate(catalog=catalog, models=["unet", "baseline"],
                      config=EvaluateConfig(n_workers=args.workers, device=args.eval_device, title="MIR-1K test split"))
    timings["evaluate"] = time.perf_counter() - t
    scores = pd.read_parquet(catalog.evaluation / "scores.parquet")
    table = global_table(scores)
    table["source"] = table["source"].replace({"Instrumental": "Accompaniment"})

    train_total = sum(v for k, v in timings.items() if k.startswith("train"))
    lines = [
        f"# vocalmine on MIR-1K (test split, {result.scored} clips, 8192 Hz, STFT 1024/768, mixture phase)",
        "",
        markdown(table),
        "",
        "Published anchors (vocal GNSDR, 16 kHz): " + ", ".join(f"{k} {v:.2f} dB" for k, v in ANCHORS.items()) + ".",
        f"Clips scored: {result.scored}; excluded: {result.excluded or 'none'}.",
        "",
        f"Training: {args.steps} steps x batch {args.batch_size} per model, 4 models, {train_total / 60:.1f} min in total "
        f"on {hardware(args.device)}.",
        "Per model: " + "; ".join(f"{k}: {v['steps']} steps, {v['seconds'] / 60:.1f} min, best step {v['best_step']}" for k, v in runs.items()),
        "Stage times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()),
        "Train/validation: MIR-1K train + dev clips only, split by singer+song; the test split was used once, here.",
        "",
    ]
    text = "\n".join(lines)
    (args.work / "results.md").write_text(text + "\n\n" + (catalog.evaluation / "tables.md").read_text(), encoding="utf-8")
    (args.work / "results.json").write_text(json.dumps({"timings": timings, "runs": runs, "gnsdr": result.gnsdr}, indent=2, default=str))
    print(text)
    print(f"wrote {args.work / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
