"""`vocalmine export-dataset`: the kept pairs as stem folders other trainers read (MUSDB18-HQ's layout).

Reads pairs.parquet and the shards' quality table (which pairs were kept, and
their split), and writes, per kept pair, mixture.wav (the original), accompaniment.wav
(the instrumental aligned and gain-matched) and vocals.wav (their difference) at
the original release's own rate and channels; see :mod:`vocalmine.core.contract.dataset`.
The alignment is found as `build` finds it (the same analysis, so the same lag
and gain), then refined at the release's rate (:mod:`vocalmine.features.render`).

Pairs go to Dask in batches (one task per ``pairs_per_task`` pairs). Each WAV
is written atomically and a track's ``track.json`` last, so a killed export,
rerun, skips the finished tracks and writes the same files; the manifest is
written at the end.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.atomic import remove_stale_temps, write_text_atomic
from vocalmine.core.audio import write_audio
from vocalmine.core.catalog import DataCatalog
from vocalmine.core.contract.dataset import (
    ACCOMPANIMENT_FILE, MANIFEST_FILE, MANIFEST_SCHEMA, MIXTURE_FILE, SPLIT_FOLDERS, TRACK_FILE, VOCALS_FILE,
)
from vocalmine.core.contract.pairs import PAIRS_SCHEMA
from vocalmine.core.contract.shards import QUALITY_FILE, QUALITY_SCHEMA
from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import AudioError, CatalogError, NothingUsableError, VocalmineError
from vocalmine.core.lock import holding
from vocalmine.core.paths import resolve_under
from vocalmine.core.progress import progress
from vocalmine.core.spec import ANALYSIS_RATE
from vocalmine.core.tables import read_metadata, read_table, write_table
from vocalmine.features.config import FeaturesConfig, config_from_overrides
from vocalmine.features.pair import decode_pair, pair_features
from vocalmine.features.render import render_pair
from vocalmine.features.store import storage_error

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when what a track folder holds changes: older folders are then rewritten
MAX_FOLDER_CHARS = 120  # a track folder's name is cut to this many characters (file systems allow 255 bytes)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class ExportSummary:
    """What one `export-dataset` run did."""

    folder: Path
    tracks: int  # kept pairs exported (folders in the manifest)
    written: int  # tracks written in this run
    resumed: int  # tracks found complete and kept
    failed: dict[str, int]  # reason -> kept pairs that could not be exported now
    splits: dict[str, int]  # split -> tracks
    audio_seconds: float  # seconds of mixture exported
    seconds: float  # wall time

    def lines(self) -> list[str]:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items())) or "none"
        splits = ", ".join(f"{SPLIT_FOLDERS[s]} {n}" for s, n in self.splits.items())
        return [
            f"tracks: {self.tracks} ({self.written} written, {self.resumed} resumed; failed: {failed})",
            f"splits: {splits}",
            f"audio: {self.audio_seconds / 60:.1f} min of mixture; time {self.seconds:.1f} s",
            f"output: {self.folder} (manifest {self.folder / MANIFEST_FILE})",
        ]


def track_folder(pair: dict) -> str:
    """``<split folder>/<Artist - Title [pair_id]>``: readable, unique by the pair id, safe on every file system."""
    name = unicodedata.normalize("NFC", f"{pair['artist']} - {pair['original_title']}")
    name = _UNSAFE.sub("_", name).strip(" .") or "track"
    return f"{SPLIT_FOLDERS[pair['split']]}/{name[:MAX_FOLDER_CHARS].rstrip(' .')} [{pair['pair_id']}]"


def _finished(folder: Path, pair: dict) -> dict | None:
    """The manifest row recorded in a complete track folder for this very pair, else None."""
    try:
        record = json.loads((folder / TRACK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("version") != EXPORT_VERSION or record.get("key") != _key(pair):
        return None
    if not all((folder / name).is_file() for name in (MIXTURE_FILE, VOCALS_FILE, ACCOMPANIMENT_FILE)):
        return None
    return record["row"]


def _key(pair: dict) -> list:
    """What a track folder's content depends on."""
    return [pair["pair_id"], pair["original_path"], pair["instrumental_path"], pair["fingerprint"]]


def export_pair(pair: dict, *, out: Path, audio_root: str, config: FeaturesConfig) -> tuple[dict | None, str]:
    """Write one track folder; (its manifest row, "") or (None, the reason it could not be exported)."""
    folder = out / pair["folder"]
    try:
        paths = [resolve_under(audio_root, pair[k]) for k in ("original_path", "instrumental_path")]
        original, instrumental = decode_pair(*paths)
    except (AudioError, CatalogError) as exc:
        return None, f"undecodable: {exc}"
    analysis = pair_features(original.analysis, instrumental.analysis, config=config, waveforms=False)
    if analysis.reason:
        return None, f"{analysis.reason}: {analysis.detail}"
    rendered = render_pair(original, instrumental, lag=analysis.offset + analysis.delay, sample_rate=original.rate,
                           channels=original.channels)
    mixture, accompaniment = rendered.waveforms.astype(np.float64)
    vocals = mixture - accompaniment
    rate = original.rate
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)  # left by an export killed while writing this track
    for name, signal in ((MIXTURE_FILE, mixture), (ACCOMPANIMENT_FILE, accompaniment), (VOCALS_FILE, vocals)):
        write_audio(folder / name, signal.T.astype(np.float32), rate, subtype="FLOAT")
    row = {
        "pair_id": pair["pair_id"], "original_id": pair["original_id"], "instrumental_id": pair["instrumental_id"],
        "artist": pair["artist"], "original_title": pair["original_title"],
        "instrumental_title": pair["instrumental_title"], "split": pair["split"], "folder": pair["folder"],
        "sample_rate": int(rate), "channels": int(mixture.shape[0]), "duration_s": mixture.shape[1] / rate,
        "start_s": rendered.start / rate, "offset_s": (rendered.offset + rendered.delay) / rate,
        "gain": float(rendered.gain), "coherence": _number(analysis.coherence),
        "segment_coherence": _number(analysis.segment_coherence), "vocal_ratio": _number(analysis.vocal_ratio),
        "original_path": pair["original_path"], "instrumental_path": pair["instrumental_path"],
    }
    write_text_atomic(folder / TRACK_FILE, json.dumps({"version": EXPORT_VERSION, "key": _key(pair), "row": row}))
    return row, ""


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def export_batch(*, pairs: list[dict], out: str, audio_root: str, config: FeaturesConfig) -> dict:
    """One Dask task: export ``pairs`` (skipping finished folders); rows, reasons and counts.

    A write error (disk full, ...) is returned as ``error`` rather than raised, so the worker logs no traceback.
    """
    rows, failures, written, resumed = [], [], 0, 0
    for pair in pairs:
        row = _finished(Path(out) / pair["folder"], pair)
        if row is not None:
            rows.append(row)
            resumed += 1
            continue
        try:
            row, reason = export_pair(pair, out=Path(out), audio_root=audio_root, config=config)
        except OSError as exc:
            return {"rows": rows, "failures": failures, "written": written, "resumed": resumed,
                    "error": str(storage_error(exc, Path(out) / pair["folder"]))}
        if row is None:
            log.warning("%s: not exported (%s)", pair["pair_id"], reason)
            failures.append(reason.split(":", 1)[0])
            continue
        rows.append(row)
        written += 1
    return {"rows": rows, "failures": failures, "written": written, "resumed": resumed, "error": ""}


def kept_pairs(catalog: DataCatalog) -> tuple[pd.DataFrame, FeaturesConfig]:
    """The kept pairs (pairs.parquet rows with split and folder) and the features config `build` ran with.

    Raises:
        CatalogError: when pairs.parquet or the shards' quality table is missing.
    """
    quality_path = catalog.shards / QUALITY_FILE
    quality = read_table(quality_path, QUALITY_SCHEMA, stage="build")
    settings = read_metadata(quality_path).settings
    known = set(FeaturesConfig.__dataclass_fields__)
    config = config_from_overrides({k: v for k, v in settings.items() if k in known})
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA, stage="mine").drop_duplicates("pair_id")
    kept = quality.loc[quality["status"] == "kept", ["pair_id", "split"]]
    pairs = pairs.merge(kept, on="pair_id", how="inner").sort_values("pair_id", kind="stable").reset_index(drop=True)
    pairs["fingerprint"] = config.fingerprint()
    pairs["folder"] = [track_folder(p) for p in pairs.to_dict("records")]
    return pairs, config


def _remove_stale_tracks(out: Path, folders: set[str]) -> int:
    """Delete track folders of an earlier export (they hold track.json) whose pair is no longer exported."""
    removed = 0
    for split_folder in SPLIT_FOLDERS.values():
        root = out / split_folder
        if not root.is_dir():
            continue
        for track in root.iterdir():
            if (track / TRACK_FILE).is_file() and f"{split_folder}/{track.name}" not in folders:
                shutil.rmtree(track)
                removed += 1
    return removed


@holding("export-dataset", lambda catalog, out=None, **_: out if out is not None else catalog.dataset)
def export_dataset(*, catalog: DataCatalog, out: str | os.PathLike | None = None, scheduler: str | None = None,
                   workers: int = 2, pairs_per_task: int = 4) -> ExportSummary:
    """Write the kept pairs of ``catalog`` as stem folders under ``out`` (default: the catalog's ``dataset``).

    Raises:
        CatalogError: when `mine` or `build` has not run.
        NothingUsableError: when no pair could be exported (the manifest is still written).
        VocalmineError: a failed write (disk full, ...), naming the path; rerun to resume.
    """
    started = time.perf_counter()
    out = Path(out) if out is not None else catalog.dataset
    pairs, config = kept_pairs(catalog)
    if pairs.empty:
        raise NothingUsableError(f"{catalog.shards / QUALITY_FILE}: no kept pair to export (run `vocalmine build`)")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    # The manifest goes before any track folder changes, so that an export that fails or is killed midway
    # leaves none describing folders it rewrote; the run that completes writes it again.
    try:
        (out / MANIFEST_FILE).unlink(missing_ok=True)
    except OSError as exc:
        raise storage_error(exc, out / MANIFEST_FILE) from exc
    records = pairs.to_dict("records")
    batches = [records[i : i + pairs_per_task] for i in range(0, len(records), pairs_per_task)]
    rows, failures, written, resumed = [], [], 0, 0
    audio_root = str(catalog.tracks.audio_root)
    with dask_client(scheduler=scheduler, workers=workers, tasks=len(batches), stage="export-dataset") as client:
        from dask.distributed import as_completed  # imported with the client: dask costs a second at import

        futures = {client.submit(export_batch, pairs=batch, out=str(out), audio_root=audio_root, config=config,
                                 pure=False): len(batch) for batch in batches}
        bar = progress(total=len(records), desc="export-dataset", unit="track")
        for future in as_completed(futures):
            result = future.result()
            if result["error"]:
                raise VocalmineError(result["error"])
            rows += result["rows"]
            failures += result["failures"]
            written += result["written"]
            resumed += result["resumed"]
            bar.update(futures[future])
        bar.close()
    manifest = pd.DataFrame(rows, columns=MANIFEST_SCHEMA.names).sort_values("pair_id", kind="stable")
    removed = _remove_stale_tracks(out, set(manifest["folder"]))
    if removed:
        log.info("export-dataset: removed %d track folders of pairs no longer kept", removed)
    try:
        write_table(manifest, out / MANIFEST_FILE, MANIFEST_SCHEMA, stage="export-dataset",
                    settings={"analysis_rate": ANALYSIS_RATE, **config.__dict__})
    except OSError as exc:
        raise storage_error(exc, out / MANIFEST_FILE) from exc
    summary = ExportSummary(
        folder=out, tracks=len(manifest), written=written, resumed=resumed,
        failed={reason: failures.count(reason) for reason in sorted(set(failures))},
        splits={s: int((manifest["split"] == s).sum()) for s in SPLIT_FOLDERS},
        audio_seconds=float(manifest["duration_s"].sum()), seconds=time.perf_counter() - started,
    )
    if summary.tracks == 0:
        raise NothingUsableError(f"{out}: no pair could be exported ({summary.failed})")
    return summary
