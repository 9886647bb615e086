"""`vocalmine report`: the pair quality report, one self-contained HTML page.

Reads pairs.parquet and rejects.parquet (mining) and, when `build` has run,
quality.parquet, index.parquet, rejects.parquet and the shards (features);
writes catalog.report / index.html atomically and returns a summary for the
terminal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine import __version__
from vocalmine.core.atomic import write_text_atomic
from vocalmine.core.catalog import DataCatalog
from vocalmine.core.constants import HOP_LENGTH, N_FFT, SAMPLE_RATE
from vocalmine.core.errors import VocalmineError
from vocalmine.core.paths import resolve_under
from vocalmine.core.progress import progress
from vocalmine.core.tables import UNVERSIONED, read_metadata
from vocalmine.report import plots as plots
from vocalmine.report.audio import load_excerpts, load_segment_excerpts, ogg_data_uri
from vocalmine.report.data import (
    Artifacts,
    Funnel,
    compute_funnel,
    example_spectrograms,
    gate_rules,
    load_artifacts,
    pairs_table,
    pick_examples,
    rejects_table,
    worst_segments,
)
from vocalmine.report.html import ExampleView, PageInput, SegmentView, render_page
from vocalmine.core.contract.report import REPORT_FILE
from vocalmine.core.contract.shards import INDEX_FILE, QUALITY_FILE, REJECTS_FILE, read_spec

log = logging.getLogger(__name__)

# Measured (bench/bench_report.py): demo corpus 0.86 MB; 10^4 pairs + 1.5·10^4 rejects 3.6 MB. Fixed part
# ~0.85 MB (figures ~0.35, audio ~0.5: 9 example and 12 worst-segment clips); ~200 bytes per pair row, ~95 per reject.
PAGE_BUDGET_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReportConfig:
    """Knobs of the report; the defaults keep the page inside PAGE_BUDGET_BYTES for 10^4 pairs."""

    excerpt_seconds: float = 6.0  # length of each audio excerpt, seconds
    spectrogram_frames: int = 128  # frames per example spectrogram (one patch, about 12 s)
    audio_quality: float = 0.3  # Ogg Vorbis VBR quality in [0, 1]
    max_rows: int = 20000  # rows per table embedded in the page (funnel counts cover all rows)
    with_audio: bool = True  # decode the example pairs' audio for excerpts
    segment_excerpts: int = 6  # pairs whose worst segment the page plays (lowest coherence first)
    segment_margin_s: float = 1.0  # heard before and after the worst segment, seconds


@dataclass(frozen=True)
class ReportSummary:
    """What `build_report` wrote, for the terminal summary."""

    path: Path  # the HTML file
    size_bytes: int  # its size
    funnel: Funnel  # counts from catalog rows to patches per split
    n_pairs: int  # rows of pairs.parquet
    n_rejects: int  # reject rows of every stage
    n_examples: int  # example pairs with spectrograms
    seconds: float  # wall time of build_report
    over_budget: bool  # size_bytes > PAGE_BUDGET_BYTES
    n_segments: int = 0  # worst segments the page lets you hear


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def provenance(catalog: DataCatalog, artifacts: Artifacts) -> tuple[tuple[str, str], ...]:
    """(name, value) lines: creation time, versions, input and artifact files with sizes and hashes."""
    import matplotlib

    items = [
        ("created (UTC)", datetime.now(timezone.utc).isoformat(timespec="seconds")),
        ("vocalmine", f"{__version__} (git {_git_commit()})"),
        ("python / numpy / pandas / matplotlib",
         f"{platform.python_version()} / {np.__version__} / {pd.__version__} / {matplotlib.__version__}"),
        ("data catalog", f"{catalog.source} (sha256 {sha256_file(catalog.source)})" if catalog.source.is_file()
         else str(catalog.source)),
        ("track catalog", f"{catalog.tracks.path} (sha256 {sha256_file(catalog.tracks.path)}, "
                          f"{artifacts.catalog_rows:,} rows)"),
        ("audio root", str(catalog.tracks.audio_root)),
    ]
    for name in ("pairs", "rejects"):
        items.append((f"{name}.parquet", _file_line(getattr(catalog, name))))
    for name in (QUALITY_FILE, INDEX_FILE, REJECTS_FILE):
        path = catalog.shards / name
        items.append((f"shards/{name}", _file_line(path) if path.is_file() else f"{path} (not built)"))
    shard_files = sorted(catalog.shards.glob("shard-*.npy")) if catalog.shards.is_dir() else []
    items.append(("shards", f"{catalog.shards}: {len(shard_files)} files, "
                            f"{sum(p.stat().st_size for p in shard_files) / 2**20:,.1f} MiB"))
    return tuple(items)


def _file_line(path: Path) -> str:
    stat = path.stat()
    when = datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(timespec="seconds")
    return f"{path} ({stat.st_size:,} bytes, modified {when}, sha256 {sha256_file(path)})"


def _value(value) -> str:
    """A setting as a person reads it: numbers without trailing zeros, lists comma-separated."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def stage_parameters(catalog: DataCatalog, artifacts: Artifacts) -> tuple[tuple[str, str], ...]:
    """The settings each stage actually ran with, read from its artifacts' metadata (not today's defaults).

    Artifacts written by one run of a stage with the same settings are listed together; a stage whose
    artifacts disagree (rebuilt in part with other settings) is listed once per set of settings.
    """
    del artifacts  # the tables are read already; their metadata is read here from the files
    paths = [catalog.pairs, catalog.rejects] + [catalog.shards / n for n in (QUALITY_FILE, INDEX_FILE, REJECTS_FILE)]
    runs: dict[tuple, list[tuple[str, str]]] = {}
    items: list[tuple[str, str]] = []
    for path in paths:
        if not path.is_file():
            continue
        name = path.name if path.parent == catalog.pairs.parent else f"{path.parent.name}/{path.name}"
        meta = read_metadata(path)
        if meta.schema_version == UNVERSIONED:
            items.append((name, "settings not recorded (written before artifacts carried them)"))
            continue
        # not keyed by the time written: one run's files may straddle a second
        key = (meta.stage or "?", meta.vocalmine_version, json.dumps(meta.settings, sort_keys=True))
        runs.setdefault(key, []).append((name, meta.written_at or "?"))
    for (stage, version, settings), files in runs.items():
        times = sorted({written for _, written in files})
        written = times[0] if len(times) == 1 else f"{times[0]} … {times[-1]}"
        names = ", ".join(name for name, _ in files)
        items.append((f"{stage}", f"{names}: written {written} by vocalmine {version}"))
        for k, v in sorted(json.loads(settings).items()):
            items.append((f"{stage}: {k}", _value(v)))
    for folder in {catalog.pairs.parent, catalog.shards}:
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            if path.stat().st_size <= 20_000:
                items.append((str(path.name), _compact_json(path)))
    items.append(("analysis (alignment and gate)", f"{SAMPLE_RATE} Hz mono, window {N_FFT}, hop {HOP_LENGTH}"))
    if (catalog.shards / INDEX_FILE).is_file():
        items.append(("signal spec of the shards", read_spec(catalog.shards).describe()))
    return tuple(items)


def _compact_json(path: Path) -> str:
    try:
        return json.dumps(json.loads(path.read_text(encoding="utf-8")), separators=(",", ":"))
    except (ValueError, OSError) as exc:
        return f"unreadable ({exc})"


def _example_views(catalog: DataCatalog, artifacts: Artifacts, table: pd.DataFrame,
                   config: ReportConfig) -> tuple[ExampleView, ...]:
    picks = pick_examples(table, artifacts.index)
    if not picks:
        return ()
    pairs = artifacts.pairs.drop_duplicates("pair_id").set_index("pair_id")
    quality = artifacts.quality.drop_duplicates("pair_id", keep="last").set_index("pair_id")
    rows = table.set_index("pair_id")
    spec = read_spec(catalog.shards)  # the examples' spectrograms are the shards' own
    views = []
    for label, pair_id in progress(picks, desc="examples", unit="pair"):
        pair, q, row = pairs.loc[pair_id], quality.loc[pair_id], rows.loc[pair_id]
        audio: tuple[tuple[str, str], ...] = ()
        note = ""
        start_frame = 0
        if config.with_audio:
            try:
                root = catalog.tracks.audio_root  # pairs.parquet paths are relative to it; an escaping one is refused
                ex = load_excerpts(resolve_under(root, pair["original_path"]),
                                   resolve_under(root, pair["instrumental_path"]),
                                   offset_samples=int(q["offset_samples"]),
                                   gain=float(q["gain"]), seconds=config.excerpt_seconds)
                audio = tuple((name, ogg_data_uri(y, quality=config.audio_quality)) for name, y in
                              (("original", ex.original), ("instrumental × g (aligned)", ex.instrumental),
                               ("derived vocal", ex.vocal)))
                # the excerpt's centre (analysis-rate samples) as a frame of the shards' STFT
                centre = int((ex.start_sample + len(ex.original) // 2) / SAMPLE_RATE * spec.sample_rate / spec.hop)
                start_frame = max(0, centre - config.spectrogram_frames // 2)
            except VocalmineError as exc:
                note = f"audio excerpts unavailable: {exc}"
                log.warning("report: %s", note)
        try:
            spectra = example_spectrograms(catalog.shards, artifacts.index, pair_id, start_frame=start_frame,
                                           frames=config.spectrogram_frames)
        except (VocalmineError, ValueError, OSError) as exc:  # a missing or malformed shard loses one example only
            log.warning("report: no spectrogram for the %s pair %s: %s", label, pair_id, exc)
            continue
        caption = f"{pair['artist']} – {pair['original_title']} / {pair['instrumental_title']}"
        image = plots.figure_data_uri(plots.spectrogram_figure(spectra, title=f"{label}: {caption}"[:120],
                                                               start_frame=start_frame, spec=spec))
        facts = (
            ("quality", f"{row['quality']:.3f}"), ("coherence", f"{q['coherence']:.3f}"),
            ("worst segment", _segment_text(q["segment_coherence"], q["segment_start_s"])),
            ("offset", f"{q['offset_s']:.3f} s"), ("gain", f"{q['gain_db']:.2f} dB"),
            ("alignment (context)", f"{q['align_confidence']:.3f}"),
            ("vocal ratio (context)", f"{q['vocal_ratio']:.3f}"),
            ("split", str(q["split"])),
        )
        views.append(ExampleView(label, pair_id, caption, facts, image, audio, note))
    return tuple(views)


def _segment_text(coherence: float, start_s: float) -> str:
    """"0.912 at 12.0 s", without the position for a quality table built before it was recorded."""
    if not np.isfinite(coherence):
        return "not judged"
    return f"{coherence:.3f}" + (f" at {start_s:.1f} s" if np.isfinite(start_s) else "")


def _segment_views(catalog: DataCatalog, artifacts: Artifacts, table: pd.DataFrame,
                   config: ReportConfig) -> tuple[tuple[SegmentView, ...], str]:
    """The worst segments to hear, and a note when none can be (old quality table, audio off)."""
    if artifacts.quality is None:
        return (), "The features stage has not run: no segment has been judged."
    picks = worst_segments(table, config.segment_excerpts)
    if not picks:
        if table["segment_coherence"].notna().any():  # judged, but the table does not say where
            # a plain re-run would resume from the same part records, so the shards must go
            return (), (f"quality.parquet does not record where each pair's worst segment starts (built before "
                        f"segment_start_s existed): delete {catalog.shards} and re-run `vocalmine build` to hear them.")
        return (), "No pair has a judged segment."
    if not config.with_audio:
        return (), "Audio excerpts are off (--no-audio)."
    # the segment's length is the build's setting (unrecorded: an excerpt of the usual length from its start)
    segment_s = float(artifacts.build_settings.get("coherence_segment_s") or 0.0)
    seconds = segment_s + 2 * config.segment_margin_s if segment_s else config.excerpt_seconds
    centre = segment_s / 2 if segment_s else seconds / 2 - config.segment_margin_s
    pairs = artifacts.pairs.drop_duplicates("pair_id").set_index("pair_id")
    quality = artifacts.quality.drop_duplicates("pair_id", keep="last").set_index("pair_id")
    rows = table.set_index("pair_id")
    views = []
    for pair_id in progress(picks, desc="worst segments", unit="pair"):
        pair, q, row = pairs.loc[pair_id], quality.loc[pair_id], rows.loc[pair_id]
        start = float(q["segment_start_s"])
        facts = [("worst segment",
                  _segment_text(q["segment_coherence"], start) + f" (gate {q['min_segment_coherence']:g})"),
                 ("whole track", f"{q['coherence']:.3f} (gate {q['min_coherence']:g})"),
                 ("status", str(row["status"]) + (f" ({row['reason']})" if row["reason"] else ""))]
        audio: tuple[tuple[str, str], ...] = ()
        note = ""
        try:
            root = catalog.tracks.audio_root
            ex = load_segment_excerpts(resolve_under(root, pair["original_path"]),
                                       resolve_under(root, pair["instrumental_path"]),
                                       offset_samples=int(q["offset_samples"]), gain=float(q["gain"]),
                                       centre_s=start + centre, seconds=seconds)
            first = ex.start_sample / SAMPLE_RATE
            span = f"{first:.1f}–{first + len(ex.original) / SAMPLE_RATE:.1f} s"
            audio = ((f"original, {span}", ogg_data_uri(ex.original, quality=config.audio_quality)),
                     ("instrumental × g (aligned)", ogg_data_uri(ex.instrumental, quality=config.audio_quality)))
        except VocalmineError as exc:
            note = f"audio excerpts unavailable: {exc}"
            log.warning("report: %s", note)
        caption = f"{pair['artist']} – {pair['original_title']} / {pair['instrumental_title']}"
        views.append(SegmentView(pair_id, caption, tuple(facts), audio, note))
    return tuple(views), ""


def build_report(*, catalog: DataCatalog, config: ReportConfig = ReportConfig()) -> ReportSummary:
    """Write catalog.report / index.html and return its summary.

    Raises:
        CatalogError: when pairs.parquet or rejects.parquet is missing or malformed
            (run `vocalmine mine` first), or a features table is malformed.
    """
    started = time.perf_counter()
    artifacts = load_artifacts(catalog)
    funnel = compute_funnel(artifacts)
    table = pairs_table(artifacts)
    rejects = rejects_table(artifacts, columns=catalog.tracks.columns, audio_root=catalog.tracks.audio_root)
    notes = []
    if artifacts.quality is None:
        notes.append("The features stage has not run (no quality.parquet): quality columns, splits and examples are "
                     "empty.")
    gates = gate_rules(artifacts.quality, artifacts.build_settings)
    segments, segments_note = _segment_views(catalog, artifacts, table, config)
    heard = {view.pair_id for view in segments if view.audio}
    table["listen"] = np.where(table["pair_id"].isin(heard), "▶ play", "")
    figures = (
        ("What decided: the quality gate's two measures over the pairs after content checks (blue: kept for "
         "training, orange: not kept). A pair below either dashed threshold is excluded as too_different.",
         plots.figure_data_uri(plots.gate_figure(table, gates))),
        ("Context, not the gate: mining scores and alignment over the same pairs. A dashed line marks a rule build "
         "applied to that measure, if any.", plots.figure_data_uri(plots.distributions_figure(table, gates))),
        ("Pairs per artist and per split", plots.figure_data_uri(
            plots.counts_figure(table, [(s.split, s.pairs, s.patches) for s in funnel.splits]))),
    )
    page = PageInput(
        funnel=funnel, pairs=table, rejects=rejects, figures=figures,
        examples=_example_views(catalog, artifacts, table, config),
        provenance=provenance(catalog, artifacts), parameters=stage_parameters(catalog, artifacts),
        max_rows=config.max_rows, notes=tuple(notes), segments=segments, segments_note=segments_note,
    )
    text = render_page(page)
    path = write_text_atomic(catalog.report / REPORT_FILE, text)
    size = path.stat().st_size
    if size > PAGE_BUDGET_BYTES:
        log.warning("report: %s is %.1f MB, over the %.1f MB budget", path, size / 2**20, PAGE_BUDGET_BYTES / 2**20)
    return ReportSummary(path, size, funnel, len(artifacts.pairs), len(rejects), len(page.examples),
                         time.perf_counter() - started, size > PAGE_BUDGET_BYTES, n_segments=len(heard))
