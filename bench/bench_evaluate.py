"""Benchmark: `evaluate` on the 825 MIR-1K test clips (mixture + oracle IRM).

Writes the test split as an eval set (eval.csv: mixture float WAV, vocals and
accompaniment as lossless 16-bit FLAC, all at 8192 Hz) into a work folder,
runs vocalmine's evaluate (Dask LocalCluster, fast BSS Eval) and compares with
the loop a user would otherwise write: mir_eval.separation.bss_eval_sources in
one process, timed on a subset and extrapolated to all clips. Also reports the
largest difference between the two on that subset.

    .venv/bin/python bench/bench_evaluate.py [--workers 2] [--baseline-clips 12] [--work /tmp/vocalmine-bench-eval]

Target: under 10 minutes on 2 cores. MIR-1K lives in ../shared/data/mir1k
(left channel = accompaniment, right = vocals); the benchmark skips without it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MIR1K = DATA / "mir1k"
SR = 8192


def read_clip(clip: str, split: str, clips_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(accompaniment, vocals) int16 (n,) and the rate of one MIR-1K clip: the 8192 Hz FLAC in the shared
    folder, or ``clips_dir/CLIP.wav`` (the original 16 kHz WAVs: left accompaniment, right voice)."""
    path = clips_dir / f"{clip}.wav" if clips_dir else MIR1K / split / f"{clip}.flac"
    data, sr = sf.read(path, dtype="int16", always_2d=True)
    return data[:, 0], data[:, 1], sr


def write_mir1k_eval_set(split: str, out_dir: Path, *, limit: int | None = None, clips_dir: Path | None = None) -> Path:
    """Write MIR-1K ``split`` as a vocalmine eval set under ``out_dir`` at the clips' own rate; return eval.csv.

    Files already written (same size) are kept, so a rerun costs seconds.
    """
    clips = pd.read_csv(MIR1K / "clips.csv")
    clips = clips[clips["split"] == split].sort_values("clip")
    if limit:
        clips = clips.head(limit)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for clip, duration in zip(clips["clip"], clips["duration_s"]):
        names = {k: f"{clip}.{k}.{'wav' if k == 'mixture' else 'flac'}" for k in ("mixture", "vocals", "accompaniment")}
        if not all((out_dir / n).is_file() for n in names.values()):
            acc, voc, sr = read_clip(clip, split, clips_dir)
            mixture = (acc.astype(np.float32) + voc.astype(np.float32)) / 32768.0  # exact in float32
            sf.write(out_dir / names["vocals"], voc, sr, subtype="PCM_16")
            sf.write(out_dir / names["accompaniment"], acc, sr, subtype="PCM_16")
            sf.write(out_dir / names["mixture"], mixture, sr, subtype="FLOAT")
        rows.append({"song": clip, **names, "duration_s": duration})
    path = out_dir / "eval.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def catalog_yaml(work: Path, eval_dir: Path) -> Path:
    """A data_catalog.yaml whose eval_set is ``eval_dir`` and artifacts go under ``work``."""
    yaml_file = work / "data_catalog.yaml"
    yaml_file.write_text(
        f"""tracks:
  path: {work}/corpus/catalog.csv
  audio_root: {work}/corpus
  columns: {{track_id: track_id, artist: artist, title: title, duration: duration, audio_path: audio_path}}
pairs: {work}/work/pairs.parquet
rejects: {work}/work/rejects.parquet
fingerprints: {work}/work/fingerprints.parquet
shards: {work}/work/shards
report: {work}/work/report
models: {work}/work/models
eval_set:
  path: {eval_dir}/eval.csv
  audio_root: {eval_dir}
evaluation: {work}/work/evaluation
separated: {work}/work/separated
""",
        encoding="utf-8",
    )
    return yaml_file


def baseline_mir_eval(eval_dir: Path, songs: list[str]) -> tuple[float, pd.DataFrame]:
    """Median seconds per clip of a plain mir_eval loop (mixture + oracle IRM), and its scores."""
    from vocalmine.core.audio import load_audio
    from vocalmine.evaluation.bss import mir_eval_sources
    from vocalmine.evaluation.clips import oracle_irm

    times, rows = [], []
    for song in songs:
        t0 = time.perf_counter()
        mix, voc, acc = (load_audio(eval_dir / f"{song}.{k}").astype(np.float64) for k in ("mixture.wav", "vocals.flac", "accompaniment.flac"))
        refs = np.stack([voc, acc])
        sdr_mix = mir_eval_sources(refs, np.stack([mix, mix]))[0]
        sdr, sir, sar = mir_eval_sources(refs, oracle_irm(mix, voc, acc, "paper"))
        times.append(time.perf_counter() - t0)
        for k, source in enumerate(("vocals", "instrumental")):
            rows.append({"song": song, "source": source, "sdr": sdr[k], "sir": sir[k], "sar": sar[k], "nsdr": sdr[k] - sdr_mix[k]})
    return statistics.median(times), pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-bench-eval"), help="work folder (eval set, outputs)")
    parser.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers")
    parser.add_argument("--baseline-clips", type=int, default=12, help="clips timed with the plain mir_eval loop")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N test clips (0 = all 825)")
    args = parser.parse_args()
    if not (MIR1K / "clips.csv").is_file():
        print(f"skipped: MIR-1K not found at {MIR1K}")
        return 0

    from vocalmine.core.catalog import load_catalog
    from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate

    t0 = time.perf_counter()
    eval_dir = args.work / "mir1k-test"
    write_mir1k_eval_set("test", eval_dir, limit=args.limit or None)
    print(f"eval set written in {time.perf_counter() - t0:.1f} s: {eval_dir}")
    catalog = load_catalog(catalog_yaml(args.work, eval_dir))

    t0 = time.perf_counter()
    summary = evaluate(catalog=catalog, models=[], config=EvaluateConfig(n_workers=args.workers, title="MIR-1K test (825 clips)"))
    ours = time.perf_counter() - t0
    print(summary.table)

    scores = pd.read_parquet(catalog.evaluation / "scores.parquet")
    subset = sorted(scores["song"].unique())[:: max(1, summary.scored // max(1, args.baseline_clips))][: args.baseline_clips]
    per_clip, base = baseline_mir_eval(eval_dir, subset)
    mine = scores[(scores["system"] == "oracle-irm") & scores["song"].isin(subset)].set_index(["song", "source"])
    base = base.set_index(["song", "source"]).loc[mine.index]
    diff = float(np.max(np.abs(mine[["sdr", "sir", "sar", "nsdr"]].to_numpy() - base[["sdr", "sir", "sar", "nsdr"]].to_numpy())))
    extrapolated = per_clip * summary.clips
    print(f"\nvocalmine evaluate, {summary.clips} clips x 2 systems, {args.workers} Dask workers: {ours:.1f} s "
          f"({ours / 60:.2f} min; target < 10 min)")
    print(f"plain single-process mir_eval loop: {per_clip:.2f} s/clip (median of {len(subset)}), "
          f"extrapolated {extrapolated:.0f} s ({extrapolated / 60:.1f} min) -> speed-up {extrapolated / ours:.1f}x")
    print(f"largest |difference| vs mir_eval on those clips (SDR/SIR/SAR/NSDR of oracle-irm): {diff:.2e} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
