"""Benchmark: signal presets end to end at an equal training budget, scored full band at the songs' own rate.

On a generated demo corpus (--seed; the demo's is 0): `mine`, then for each
preset `build --preset P` into its own shards folder and `train` the vocals and
instrumental U-Nets of model set P for --minutes each (the trainer's time
budget, validation excluded; one torch thread each, two trainings at a time),
then `evaluate --sample-rate native` scores every model set on the evaluation
songs at their own rate and channels, with the oracle ratio mask at the native
STFT. Printed per system: full-band SDR of vocals and instrumental (BSS Eval v3,
channels as one signal, duration-weighted over the songs) and the vocals' SNR
above 5 kHz, also as a share of the oracle's.

Equal budget means equal minutes: a full-band patch (1024 bins x 256 frames,
two channels) costs about 4x a paper patch on a CPU, so the full-band models
train with --fullband-batch 4 against the paper's 16 (about the same time per
step) and see a quarter of the patches.

fullband-mono is the fullband transform on the channels' mean: a mono model,
separated like the paper preset's on stereo input (the vocal mask on the mid,
weighted by the channels' similarity), against fullband's two input planes and
one mask per channel. With --targets vocals each model set is its vocal U-Net
alone, the instrumental the complement of its mask: the budget per set is then
one model's.

    .venv/bin/python bench/bench_presets.py --work /tmp/presets-s0 --seed 0 --minutes 6
    .venv/bin/python bench/bench_presets.py --work /tmp/presets-s1 --seed 1 --minutes 6
    .venv/bin/python bench/bench_presets.py --work /tmp/presets-v0 --seed 0 --minutes 30 --targets vocals

Reruns reuse the corpus, the shards and finished trainings in --work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.contract.models import BEST_CHECKPOINT, run_folder
from vocalmine.core.contract.scores import SYSTEM_ORACLE
from vocalmine.evaluation.tables import markdown

VOCALMINE = [sys.executable, "-m", "vocalmine"]


def run(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "a", encoding="utf-8") as fh:
        return subprocess.Popen(VOCALMINE + args, stdout=fh, stderr=subprocess.STDOUT)


def catalog_yaml(work: Path, corpus: Path, preset: str) -> Path:
    """A catalog per preset: shared corpus, pairs and models folder; the preset's own shards folder."""
    path = work / f"catalog-{preset}.yaml"
    text = catalog_for_corpus(path, corpus, work / "work")
    text = text.replace("shards: work/shards\n", f"shards: work/shards-{preset}\n")
    path.write_text(text, encoding="utf-8")
    assert f"shards-{preset}" in path.read_text(), "catalog_for_corpus changed its layout"
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-presets"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated corpus (the demo's is 0)")
    parser.add_argument("--songs", type=int, default=40, help="catalog songs (the demo's 40)")
    parser.add_argument("--presets", default="paper,fullband,fullband-mono", help="comma list of presets")
    parser.add_argument("--minutes", type=float, default=6.0, help="training budget per model, minutes")
    parser.add_argument("--batch", type=int, default=16, help="batch size of the paper and 16k presets")
    parser.add_argument("--fullband-batch", type=int, default=4, help="batch size of the fullband presets")
    parser.add_argument("--parallel", type=int, default=2, help="trainings at a time (one torch thread each)")
    parser.add_argument("--targets", default="vocals,instrumental",
                        help="models trained per preset; with vocals alone the instrumental is the complement of "
                             "the vocal mask (as `separate` does with one model)")
    args = parser.parse_args()
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if "vocals" not in targets or set(targets) - {"vocals", "instrumental"}:
        parser.error("--targets: vocals, or vocals,instrumental")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    log = work / "bench.log"
    corpus = work / "corpus"
    timings = {}
    t = time.perf_counter()
    if not (corpus / "catalog.csv").is_file():
        subprocess.run(VOCALMINE + ["demo-data", "--out", str(corpus), "--songs", str(args.songs), "--seed",
                                    str(args.seed)], check=True, stdout=subprocess.DEVNULL)
    yamls = {p: catalog_yaml(work, corpus, p) for p in presets}
    first = yamls[presets[0]]
    if not load_catalog(first).pairs.is_file():
        subprocess.run(VOCALMINE + ["--catalog", str(first), "mine"], check=True, stdout=subprocess.DEVNULL)
    timings["corpus+mine"] = time.perf_counter() - t
    for preset in presets:
        t = time.perf_counter()
        subprocess.run(VOCALMINE + ["--catalog", str(yamls[preset]), "build", "--preset", preset], check=True,
                       stdout=subprocess.DEVNULL)
        timings[f"build {preset}"] = time.perf_counter() - t

    models = load_catalog(first).models
    jobs = []
    for preset in presets:
        batch = args.fullband_batch if preset.startswith("fullband") else args.batch
        for target in targets:
            if (models / run_folder(target, preset) / BEST_CHECKPOINT).is_file():
                continue
            jobs.append(["--catalog", str(yamls[preset]), "train", "--target", target, "--model-set", preset,
                         "--batch-size", str(batch), "--workers", "1", "--epochs", "10000", "--patience", "1000",
                         "--set", f"minutes={args.minutes}", "--set", "threads=1", "--set", "schedule=cosine",
                         "--set", "lr=0.001", "--set", "epoch_patches=200"])
    t = time.perf_counter()
    started: list[subprocess.Popen] = []
    for job in jobs:
        while sum(p.poll() is None for p in started) >= args.parallel:
            time.sleep(2)
        started.append(run(job, log))
    if any(p.wait() != 0 for p in started):
        print(f"a training failed; see {log}")
        return 1
    timings["train"] = time.perf_counter() - t

    t = time.perf_counter()
    subprocess.run(VOCALMINE + ["--catalog", str(first), "evaluate", "--sample-rate", "native", "--workers", "2"]
                   + [x for p in presets for x in ("--models", p)], check=True, stdout=subprocess.DEVNULL)
    timings["evaluate"] = time.perf_counter() - t
    scores = pd.read_parquet(load_catalog(first).evaluation / "scores.parquet")
    scores = scores[scores["sample_rate"] == 44100]
    rows = []
    for system, g in scores.groupby("system", sort=False):
        row = {"system": system, "songs": g["song"].nunique()}
        for source, s in g.groupby("source"):
            w = s["duration_s"].to_numpy()
            row[f"{source} SDR"] = float(np.average(s["sdr"], weights=w))
            row[f"{source} SNR>5k"] = float(np.average(s["snr_high"], weights=w))
        rows.append(row)
    table = pd.DataFrame(rows)
    oracle = table.loc[table["system"] == SYSTEM_ORACLE, "vocals SNR>5k"]
    if len(oracle):
        table["vocals SNR>5k / oracle"] = table["vocals SNR>5k"] / float(oracle.iloc[0])
    print(f"seed {args.seed}, {args.minutes:g} min per model, 44.1 kHz stereo evaluation songs; load {os.getloadavg()}")
    print(markdown(table.round(2)))
    record = {"seed": args.seed, "minutes": args.minutes, "presets": presets, "timings": timings,
              "table": table.to_dict("records")}
    for preset in presets:
        path = models / run_folder("vocals", preset) / "metrics.csv"
        if path.is_file():
            metrics = pd.read_csv(path)
            record[f"steps {preset}"] = int(metrics["step"].max())
    (work / "results.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "table"}, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
