"""Benchmark: the MIR-1K learning curve, mine -> build -> train (time or step budget) -> evaluate.

1. Catalog: every MIR-1K train and dev clip becomes an (original, instrumental)
   release pair: the original is the mixture (FLAC, 22.05 kHz), the instrumental
   its accompaniment channel (WAV, 44.1 kHz) shifted by a random offset (the
   instrumental's content lags by -0.4..0.4 s) and scaled by a random gain
   (-3..+3 dB), as real releases are neither aligned nor equally loud.
   Artist = singer + song number, so the artist split has groups to split.
   The clips are the 8192 Hz copies in ../shared/data/mir1k, or, with --clips DIR,
   MIR-1K's original 16 kHz WAVs (left accompaniment, right voice; the folder
   dataset/mir-1k/Wavfile of the public repository andabi/music-source-separation).
2. vocalmine.mining.mine.mine, vocalmine.features.build.build at --preset (paper: 8192 Hz;
   16k: 16 kHz, MIR-1K's own rate) (train / validation split of those clips by artist;
   the MIR-1K test clips are never seen).
   The derived voice of every built pair is scored against the true vocal stem (SDR).
3. vocalmine.model.train.train_run for each selected model, within --minutes of
   training (validation excluded) or --steps, in stages (--stages), resuming from
   the work folder; best.pt (lowest validation loss, i.e. early stopping on the
   dev split) is copied after each stage, for the learning curve.
4. The 825 MIR-1K test clips, at the clips' own rate (8192 Hz, or 16 kHz with --clips, the
   rate the published figures are scored at), separated by the product's Separator
   (a model of another rate goes through its full-band path) and scored with the fast
   exact BSS Eval (one process per core): GNSDR/GSIR/GSAR for vocals and accompaniment.
   Masks: "own" = the vocal
   model's mask m (accompaniment = the rest of the mixture); "own-pP" = that mask
   softened to m^P / (m^P + (1 - m)^P), P from --mask-power (0.5 was best on the
   dev split: the half-wave-rectified target trains an over-eager mask, and
   softening trades some interference for fewer artefacts); "ratio" =
   m_v / (m_v + m_i) from the vocal and instrumental models of the same variant,
   when both were trained. Each mask is applied as `vocalmine separate` does, through
   an STFT with the model's hop and a window of at least two hops (1536 samples at the
   paper's spec, 50% overlap; chosen on the dev split), and with --synthesis paper also
   through the model's own window, as the paper resynthesises (systems NAME:paper).

Training: the trainer's remixing, with clips shorter than a crop wrapped
(no padding) and remixed voices resampled by up to ± --pitch semitones (3: the
train and dev clips hold two singers, the test clips seventeen others).

Models: vocals, instrumental (U-Net with remix augmentation); NAME-noskip (the
no-skip baseline, augmented); NAME-noaug (U-Net, no remixing).

    .venv/bin/python bench/bench_mir1k.py --work /tmp/mir1k/run --models vocals --minutes 60 --stages 15,30 \
        --json /tmp/mir1k/run/results.json
    .venv/bin/python bench/bench_mir1k.py --clips /data/Wavfile --preset 16k --work /tmp/mir1k/16k --models vocals \
        --minutes 60 --threads 1 --workers 1

Each stage resumes from the work folder (--fresh starts over). No number here is
tuned on the test split.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import soxr

from vocalmine.core.contract.models import BEST_CHECKPOINT
from vocalmine.core.contract.shards import QUALITY_FILE

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_evaluate", HERE / "bench_evaluate.py")
bench_evaluate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_evaluate)
MIR1K = bench_evaluate.MIR1K

ANCHORS = {  # published vocal results on the MIR-1K test split (GNSDR, dB; 16 kHz)
    "DRNN (Huang et al. 2014)": 7.45,
    "SH-4stack (Park et al. 2018)": 10.51,
}
MAX_OFFSET_S = 0.4  # |offset| of the instrumental's content, seconds
MAX_GAIN_DB = 3.0  # |gain| between the original's accompaniment and the instrumental, dB
VARIANTS = {"": {}, "-noskip": {"skips": False}, "-noaug": {"remix": False}}


def build_corpus(work: Path, *, seed: int = 0, limit: int = 0, clips_dir: Path | None = None) -> Path:
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
        acc, voc, sr = bench_evaluate.read_clip(clip, split, clips_dir)
        acc, voc = acc.astype(np.float32) / 32768.0, voc.astype(np.float32) / 32768.0
        singer, song, part = clip.rsplit("_", 2)
        offset = float(rng.uniform(-MAX_OFFSET_S, MAX_OFFSET_S))
        gain = float(10 ** (rng.uniform(-MAX_GAIN_DB, MAX_GAIN_DB) / 20))
        original = 0.5 * (acc + voc)
        inst = 0.5 * acc / gain
        shift = int(round(abs(offset) * sr))
        # instrumental(t + offset) = accompaniment(t) / gain: a lead-in of silence, or a cut start
        inst = np.concatenate([np.zeros(shift, np.float32), inst]) if offset > 0 else inst[shift:]
        o_path, i_path = f"audio/{clip}.flac", f"audio/{clip}_instrumental.wav"
        (corpus / "audio").mkdir(parents=True, exist_ok=True)
        sf.write(corpus / o_path, soxr.resample(original, sr, 22050), 22050, subtype="PCM_16")
        sf.write(corpus / i_path, soxr.resample(inst.astype(np.float32), sr, 44100), 44100, subtype="PCM_16")
        artist = f"{singer} song {song}"
        rows.append({"track_id": f"O{k:04d}", "artist": artist, "title": f"Part {part}",
                     "duration": round(len(original) / sr, 3), "audio_path": o_path})
        rows.append({"track_id": f"I{k:04d}", "artist": artist, "title": f"Part {part} (Instrumental)",
                     "duration": round(len(inst) / sr, 3), "audio_path": i_path})
        truth.append({"clip": clip, "original_id": f"O{k:04d}", "instrumental_id": f"I{k:04d}", "offset_s": offset, "gain": gain})
    pd.DataFrame(truth).to_csv(corpus / "truth.csv", index=False)
    pd.DataFrame(rows).to_csv(corpus / "catalog.csv", index=False)
    return corpus




# -- pieces -------------------------------------------------------------------------------------------


def hardware(device: str) -> str:
    import torch

    cpu = f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), torch {torch.__version__}"
    if torch.cuda.is_available() and device != "cpu":
        return f"{torch.cuda.get_device_name(0)}; {cpu}"
    return f"CPU only; {cpu}, {torch.get_num_threads()} torch threads"


def load_average() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def parse_model(name: str) -> tuple[str, dict]:
    """("vocals" | "instrumental", TrainConfig overrides) of a model name such as vocals-noskip."""
    for target in ("vocals", "instrumental"):
        if name.startswith(target) and name[len(target):] in VARIANTS:
            return target, VARIANTS[name[len(target):]]
    raise SystemExit(f"unknown model {name!r}: expected vocals|instrumental followed by one of {list(VARIANTS)}")


def derived_voice_sdr(work: Path, shards: Path, clips_dir: Path | None = None) -> dict:
    """SDR (dB) of each built pair's derived voice (original − g·instrumental) against the true vocal stem,
    at the shards' rate (the best integer lag within ±4 samples: the index does not record where the pair starts)."""
    from vocalmine.core.contract.shards import open_shard, pairs_of, read_spec
    from vocalmine.model.data import read_index

    spec = read_spec(shards)
    pairs_parquet = pd.read_parquet(work / "work" / "pairs.parquet")
    truth = pd.read_csv(work / "corpus" / "truth.csv")
    clip_of = dict(zip(truth["original_id"], truth["clip"]))
    index = pairs_of(read_index(shards))
    originals = dict(zip(pairs_parquet["pair_id"], pairs_parquet["original_id"]))
    quality = pd.read_parquet(shards / QUALITY_FILE).set_index("pair_id")
    clips = pd.read_csv(MIR1K / "clips.csv").set_index("clip")
    sdrs = []
    for row in index.itertuples(index=False):
        clip = clip_of[originals[row.pair_id]]
        _, voc, sr = bench_evaluate.read_clip(clip, clips.loc[clip, "split"], clips_dir)
        voc = 0.5 * voc.astype(np.float32) / 32768.0
        voc = soxr.resample(voc, sr, spec.sample_rate) if sr != spec.sample_rate else voc
        array = open_shard(shards, int(row.shard))
        wave = np.asarray(array[:, row.offset : row.offset + row.samples], dtype=np.float64)
        derived = wave[0] - wave[1]
        # the first original sample kept, at the shards' rate
        centre = max(0, int(round(-int(quality.loc[row.pair_id, "offset_samples"]) * spec.sample_rate / 8192)))
        e = slice(256, len(derived) - 256)
        best = -np.inf
        for start in range(max(0, centre - 4), centre + 5):
            ref = np.zeros_like(derived)
            part = voc[start : start + len(derived)]
            ref[: len(part)] = part
            # through the same FLAC/WAV decoding and resampling as the original: plain SNR, trimmed edges
            best = max(best, 10 * np.log10(np.sum(ref[e] ** 2) / max(np.sum((derived[e] - ref[e]) ** 2), 1e-20)))
        sdrs.append(best)
    sdrs = np.array(sdrs)
    return {"pairs": int(len(sdrs)), "median_db": float(np.median(sdrs)), "min_db": float(sdrs.min()),
            "p10_db": float(np.percentile(sdrs, 10)), "mean_db": float(sdrs.mean())}


# -- evaluation (one process per core) ----------------------------------------------------------------

_MODELS: dict = {}


def _init_worker(paths: dict[str, str]) -> None:
    import torch

    from vocalmine.model.loading import load_model_file

    torch.set_num_threads(1)
    for key, path in paths.items():
        loaded = load_model_file(path)
        target = "vocals" if "vocals" in loaded.models and key.startswith("vocals") else "instrumental"
        _MODELS[key] = (loaded.models[target], loaded.spec)


def _separator(v_key: str, i_key: str | None, power: float, synthesis: str):
    """The product's Separator for one system (cached per worker)."""
    from vocalmine.model.fullband import MaskOptions
    from vocalmine.model.loading import LoadedModels
    from vocalmine.model.separator import Separator

    key = (v_key, i_key, power, synthesis)
    if key not in _MODELS:
        models = {"vocals": _MODELS[v_key][0]}
        if i_key is not None:
            models["instrumental"] = _MODELS[i_key][0]
        loaded = LoadedModels(models, Path(v_key), spec=_MODELS[v_key][1])
        _MODELS[key] = Separator(loaded, device="cpu", mask=MaskOptions(mode="ratio", power=power, synthesis=synthesis))
    return _MODELS[key]


def _score_clip(job: tuple[str, str, str, str, list[tuple[str, str, str | None, float]], tuple[str, ...]]) -> list[dict]:
    """Rows (system, source, SDR, SIR, SAR, NSDR, seconds) of one clip for every system and synthesis.

    The clip is separated at its own rate by the product's Separator, as `vocalmine separate` does:
    through an STFT with a window of at least two hops ("overlap", system NAME), or the model's own
    ("paper", NAME:paper); a model of another rate goes through the full-band path.
    """
    from vocalmine.core.audio import read_audio
    from vocalmine.evaluation.bss import BssEvalV3

    song, mix_path, voc_path, acc_path, systems, syntheses = job
    decoded = [read_audio(p) for p in (mix_path, voc_path, acc_path)]
    rate = decoded[0][1]
    signals = [d[0][0].astype(np.float64) for d in decoded]
    n = min(len(s) for s in signals)
    mixture, vocals, accompaniment = (s[:n] for s in signals)
    refs = np.stack([vocals, accompaniment])
    if min(np.sum(vocals**2), np.sum(accompaniment**2)) == 0:
        return []
    bss = BssEvalV3(refs)
    mix_sdr, _, _ = bss.score(np.stack([mixture, mixture]))
    rows = []
    for name, v_key, i_key, power in systems:
        # ratio mask m_v^p / (m_v^p + m_i^p) of the two models' estimates; with the vocal model alone m_i = 1 - m_v,
        # so p = 1 is its own mask and p < 1 softens it (fewer artefacts, more leakage)
        for synthesis in syntheses:
            stems = _separator(v_key, i_key, power, synthesis).separate(mixture.astype(np.float32), rate)
            est = np.stack([stems["vocals"], stems["instrumental"]])
            sdr, sir, sar = bss.score(est.astype(np.float64))
            label = name if synthesis == "overlap" else f"{name}:{synthesis}"
            for k, source in enumerate(("vocals", "accompaniment")):
                rows.append({"song": song, "system": label, "source": source, "sdr": sdr[k], "sir": sir[k],
                             "sar": sar[k], "nsdr": sdr[k] - mix_sdr[k], "seconds": n / rate})
    return rows


def evaluate_models(eval_dir: Path, systems: list[tuple[str, str, str | None, float]], paths: dict[str, str], *,
                    workers: int, limit: int = 0, syntheses: tuple[str, ...] = ("overlap",)) -> pd.DataFrame:
    """Per clip and system rows over the eval set (see :func:`_score_clip`)."""
    clips = pd.read_csv(eval_dir / "eval.csv")
    if limit:
        clips = clips.head(limit)
    jobs = [(r.song, str(eval_dir / r.mixture), str(eval_dir / r.vocals), str(eval_dir / r.accompaniment), systems,
             syntheses) for r in clips.itertuples(index=False)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(paths,)) as pool:
        rows = [row for result in pool.map(_score_clip, jobs, chunksize=4) for row in result]
    return pd.DataFrame(rows)


def own_systems(key: str, power: float) -> list[tuple[str, str, None, float]]:
    """The vocal model ``key``'s own mask as a system, and softened to ``power`` unless that is 1."""
    return [(f"{key}:own", key, None, 1.0)] + ([(f"{key}:own-p{power:g}", key, None, power)] if power != 1.0 else [])


def global_scores(scores: pd.DataFrame) -> dict:
    """system -> source -> GNSDR, GSIR, GSAR (length-weighted means, dB) and clips."""
    out: dict = {}
    for (system, source), g in scores.groupby(["system", "source"], sort=False):
        w = g["seconds"].to_numpy()
        out.setdefault(system, {})[source] = {
            "GNSDR": float(np.average(g["nsdr"], weights=w)), "GSIR": float(np.average(g["sir"], weights=w)),
            "GSAR": float(np.average(g["sar"], weights=w)), "clips": int(len(g)),
        }
    return out


# -- the benchmark ----------------------------------------------------------------------------------


def train_model(catalog, name: str, *, budget: dict, args, stages: list[float]) -> dict:
    """Train one model to its budget in stages (resuming), copying best.pt at each stage; its record."""
    from vocalmine.model.config import TrainConfig
    from vocalmine.model.train import LAST, train_run

    target, overrides = parse_model(name)
    run_dir = catalog.models / name
    record_path = run_dir / "bench.json"
    base = dict(batch_size=args.batch_size, seed=args.seed, workers=1, lr=args.lr, schedule=args.schedule,
                epoch_patches=args.epoch_patches, patience=args.patience, precision=args.precision,
                remix_pitch_semitones=args.pitch, ema_decay=args.ema,
                checkpoint_every=25, log_every=10, threads=args.threads, **overrides)
    if budget.get("minutes"):
        base["schedule_minutes"] = budget["minutes"]
    record = json.loads(record_path.read_text()) if record_path.is_file() else {"stages": []}
    marks = [m for m in stages if m < budget.get("minutes", 0)] + [budget.get("minutes", 0)]
    for mark in marks:
        if any(s["budget"] == mark for s in record["stages"]):
            continue
        config = TrainConfig(**base, minutes=mark, steps=budget.get("steps", 0), epochs=10_000)
        t = time.perf_counter()
        summary = train_run(shards=catalog.shards, run_dir=run_dir, target=target, config=config, device=args.device,
                            resume=(run_dir / LAST).is_file())
        snap = run_dir / f"best-{mark:g}min.pt"
        shutil.copyfile(run_dir / BEST_CHECKPOINT, snap)
        record["stages"].append({"budget": mark, "steps": summary.steps, "minutes": summary.trained_minutes,
                                 "patches_seen": summary.patches_seen, "best_step": summary.best_step,
                                 "best_val_loss": summary.best_val_loss, "best_val_sdr_proxy": summary.best_val_sdr,
                                 "identity_val_loss": summary.identity_val_loss, "stopped": summary.stopped,
                                 "precision": summary.precision, "patches_per_s": summary.patches_per_s,
                                 "wall_s": time.perf_counter() - t, "checkpoint": str(snap), "load": load_average()})
        run_dir.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=2, default=float))
        print(f"train {name} to {mark:g} min: {record['stages'][-1]}", flush=True)
        if summary.stopped == "early_stopping":
            break
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-mir1k"), help="work folder (corpus, artifacts, results)")
    parser.add_argument("--clips", type=Path, default=None,
                        help="folder of MIR-1K's original WAVs (16 kHz stereo, left accompaniment, right voice; "
                             "dataset/mir-1k/Wavfile of andabi/music-source-separation): train on them and score at "
                             "their rate (default: the 8192 Hz copies in ../shared/data/mir1k)")
    parser.add_argument("--preset", default="paper", help="signal spec the shards are built at: paper | 16k | fullband")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="build setting over the preset's, e.g. patch_frames=256 (as `vocalmine build --set`)")
    parser.add_argument("--score-model", action="append", default=[], metavar="NAME=CHECKPOINT",
                        help="also score this trained vocal model (another work folder's best.pt) on the same clips")
    parser.add_argument("--models", default="vocals,instrumental,vocals-noskip,instrumental-noskip",
                        help="comma list: vocals|instrumental + ''|-noskip|-noaug")
    parser.add_argument("--minutes", type=float, default=0.0, help="training budget per model, minutes (validation excluded)")
    parser.add_argument("--steps", type=int, default=0, help="training budget per model, optimizer steps (0 = none)")
    parser.add_argument("--stages", default="", help="comma list of minute marks at which best.pt is kept for the curve")
    parser.add_argument("--curve", action="store_true", help="also score the staged checkpoints on the test split")
    parser.add_argument("--batch-size", type=int, default=16, help="patches per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--schedule", default="cosine", help="constant | cosine")
    parser.add_argument("--epoch-patches", type=int, default=400, help="random crops between validations")
    parser.add_argument("--patience", type=int, default=1000, help="early stopping patience (validations); best.pt is kept anyway")
    parser.add_argument("--precision", default="auto", help="auto | fp32 | bf16")
    parser.add_argument("--pitch", type=float, default=3.0, help="remixed voices resampled by up to ± this many semitones")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="validate and keep a moving average of the weights with this decay per step (0 = off)")
    parser.add_argument("--mask-power", type=float, default=0.5,
                        help="also score the vocal model's mask softened to m^p / (m^p + (1 - m)^p) (p chosen on the dev split)")
    parser.add_argument("--synthesis", default="overlap,paper",
                        help="comma list of how the masks are applied: overlap (windows of two hops, the product's "
                             "default) and/or paper (the model's own 1024-sample window; systems NAME:paper)")
    parser.add_argument("--device", default="auto", help="training device: auto, cpu, cuda")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0 = all usable cores; 1 is twice as fast when other jobs load the cores)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (build) and evaluation processes")
    parser.add_argument("--seed", type=int, default=0, help="offsets/gains, split and training seed")
    parser.add_argument("--json", type=Path, default=None, help="write the results here too (default WORK/results.json)")
    parser.add_argument("--smoke", type=int, default=0, metavar="N",
                        help="smoke run: N train clips and N test clips (the figures mean nothing)")
    parser.add_argument("--fresh", action="store_true", help="delete the work folder first")
    parser.add_argument("--train-only", action="store_true",
                        help="stop after training (score later, e.g. together with --score-model in another run)")
    args = parser.parse_args()
    if not (MIR1K / "clips.csv").is_file():
        print(f"skipped: MIR-1K not found at {MIR1K}")
        return 0
    if not (args.minutes or args.steps):
        parser.error("give a budget: --minutes and/or --steps")
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        parse_model(m)
    stages = sorted(float(x) for x in args.stages.split(",") if x.strip())
    syntheses = tuple(x.strip() for x in args.synthesis.split(",") if x.strip())
    if not syntheses or set(syntheses) - {"overlap", "paper"}:
        parser.error(f"--synthesis: overlap and/or paper, got {args.synthesis!r}")

    from vocalmine.core.catalog import load_catalog
    from vocalmine.features.config import config_from_overrides
    from vocalmine.features.build import build
    from vocalmine.mining.mine import mine

    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load_at_start": load_average(),
                     "hardware": hardware(args.device), "args": {k: str(v) for k, v in vars(args).items()}}
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if args.clips is not None and not args.clips.is_dir():
        parser.error(f"--clips {args.clips}: not a folder (see --help for where the 16 kHz clips come from)")
    build_corpus(args.work, seed=args.seed, limit=args.smoke, clips_dir=args.clips)
    eval_dir = args.work / "mir1k-test"
    bench_evaluate.write_mir1k_eval_set("test", eval_dir, limit=args.smoke or None, clips_dir=args.clips)
    catalog = load_catalog(bench_evaluate.catalog_yaml(args.work, eval_dir))
    timings["corpus"] = time.perf_counter() - t

    t = time.perf_counter()
    if not catalog.pairs.is_file():
        mine(catalog=catalog)
    timings["mine"] = time.perf_counter() - t
    t = time.perf_counter()
    settings = dict(item.split("=", 1) for item in args.set if "=" in item)
    config = config_from_overrides({"workers": args.workers, "seed": args.seed, "split_fractions": (0.9, 0.1, 0.0),
                                    **settings}, preset_name=args.preset)
    built = build(catalog=catalog, config=config)
    timings["build"] = time.perf_counter() - t
    print(f"build: {built.kept}/{built.pairs} pairs kept, {built.patches} grid patches, "
          f"{built.bytes_per_audio_second:,.0f} shard bytes per audio second, {timings['build']:.1f} s", flush=True)
    results["build"] = {"spec": built.spec.to_dict(), "pairs": built.pairs, "kept": built.kept, "splits": built.splits, "grid_patches": built.patches,
                        "bytes_per_audio_second": built.bytes_per_audio_second, "seconds": timings["build"]}
    results["derived_voice_sdr"] = derived_voice_sdr(args.work, catalog.shards, args.clips)
    print(f"derived voice vs true vocal stem: {results['derived_voice_sdr']}", flush=True)

    budget = {"minutes": args.minutes, "steps": args.steps}
    results["models"] = {}
    for name in models:
        t = time.perf_counter()
        results["models"][name] = train_model(catalog, name, budget=budget, args=args, stages=stages)
        timings[f"train {name}"] = time.perf_counter() - t

    if args.train_only:
        (args.work / "train-results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
        print(f"trained; wrote {args.work / 'train-results.json'}")
        return 0
    # systems: each vocal model's own mask, and the ratio mask where the variant's instrumental model exists
    systems, paths = [], {}
    for name in models:
        target, _ = parse_model(name)
        if target != "vocals":
            continue
        variant = name[len("vocals"):]
        paths[name] = str(catalog.models / name / BEST_CHECKPOINT)
        systems += own_systems(name, args.mask_power)
        partner = f"instrumental{variant}"
        if partner in models:
            paths[partner] = str(catalog.models / partner / BEST_CHECKPOINT)
            systems.append((f"{name}:ratio", name, partner, 1.0))
    for item in args.score_model:
        name, _, path = item.partition("=")
        paths[f"vocals:{name}"] = path
        systems += own_systems(f"vocals:{name}", args.mask_power)
    if args.curve:
        for name in models:
            if not name.startswith("vocals"):
                continue
            for stage in results["models"][name]["stages"][:-1]:
                key = f"{name}@{stage['budget']:g}min"
                paths[key] = stage["checkpoint"]
                systems += own_systems(key, args.mask_power)
    t = time.perf_counter()
    results["load_before_eval"] = load_average()
    scores = evaluate_models(eval_dir, systems, paths, workers=args.workers, limit=args.smoke, syntheses=syntheses)
    timings["evaluate"] = time.perf_counter() - t
    out = args.json or args.work / "results.json"
    scores.to_parquet(Path(out).with_suffix(".scores.parquet"))
    results["test"] = global_scores(scores)
    results["test_clips"] = int(scores["song"].nunique()) if len(scores) else 0
    results["timings"] = timings
    results["load_at_end"] = load_average()
    results["anchors_vocal_gnsdr"] = ANCHORS
    text = json.dumps(results, indent=2, default=float)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text + "\n")
    for system, sources in results["test"].items():
        print(f"{system}: " + "; ".join(f"{s} GNSDR {v['GNSDR']:.2f} GSIR {v['GSIR']:.2f} GSAR {v['GSAR']:.2f}"
                                         for s, v in sources.items()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
