"""Data of the pair quality report: load the stage artifacts, compute the funnel and the tables.

Loading (``load_artifacts``, ``example_spectrograms``) reads files; everything
else is pure: DataFrames in, DataFrames or frozen records out.

Units of the funnel: catalog rows and valid rows count CSV rows; candidates,
pairs and kept pairs count (original, instrumental) pairs; the last step
counts 128-frame patches. A *candidate* is a pair that pairing considered: a
matched pair plus every pairing reject that names a pair_id (title_mismatch,
duration_mismatch, lost_to_better_match). Row-level pairing rejects (an
instrumental with no candidate at all, no_original) drop out between valid
rows and candidates; row-level content rejects (a track whose audio cannot be
decoded) between catalog rows and valid rows.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from vocalmine.core.stft import magnitude, torch_stft
from vocalmine.core.catalog import ColumnMap, DataCatalog
from vocalmine.core.errors import CatalogError
from vocalmine.core.tables import REJECTS_SCHEMA, read_metadata, read_table
from vocalmine.core.contract.shards import INDEX_SCHEMA, QUALITY_SCHEMA, SPLITS, open_shard, read_spec, read_window
from vocalmine.core.contract.pairs import PAIRS_SCHEMA
from vocalmine.core.target import vocal_target
from vocalmine.core.contract.shards import INDEX_FILE, QUALITY_FILE, REJECTS_FILE

log = logging.getLogger(__name__)

STAGES = ("ingest", "pairing", "content", "features")
NOT_BUILT = "not_built"  # pseudo reason: a pair the features stage has not processed (yet)
KEPT, EXCLUDED = "kept", "excluded"


@dataclass(frozen=True)
class Artifacts:
    """Every table the report reads; the features tables are None before `build` ran."""

    catalog_rows: int  # data rows of the track CSV (header excluded, blank lines skipped)
    pairs: pd.DataFrame  # PAIRS_SCHEMA
    rejects: pd.DataFrame  # REJECTS_SCHEMA, stages ingest | pairing | content
    quality: pd.DataFrame | None  # QUALITY_SCHEMA
    index: pd.DataFrame | None  # INDEX_SCHEMA
    features_rejects: pd.DataFrame | None  # REJECTS_SCHEMA, stage features
    build_settings: dict = field(default_factory=dict)  # the features config build ran with ({}: not recorded)


@dataclass(frozen=True)
class Drop:
    """Inputs of one stage set aside for one reason."""

    stage: str  # ingest | pairing | content | features
    reason: str  # reason code
    count: int  # rows (ingest, row-level pairing) or pairs (the rest)


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel and the drops that lead to it from the step before."""

    key: str  # rows | valid | candidates | pairs | content | kept | patches
    label: str  # human-readable name
    count: int | None  # None when the stage that produces it has not run
    unit: str  # rows | pairs | patches
    drops: tuple[Drop, ...]  # sorted by count, descending


@dataclass(frozen=True)
class SplitCount:
    """Kept pairs and patches of one split."""

    split: str
    pairs: int
    patches: int


@dataclass(frozen=True)
class Funnel:
    """The whole funnel, from catalog rows to patches per split."""

    steps: tuple[FunnelStep, ...]
    splits: tuple[SplitCount, ...]

    def step(self, key: str) -> FunnelStep:
        """The step named ``key``."""
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def all_drops(self) -> list[Drop]:
        """Every drop of every step, largest first."""
        return sorted((d for s in self.steps for d in s.drops), key=lambda d: (-d.count, d.stage, d.reason))


def count_csv_rows(path: Path, delimiter: str = ",") -> int:
    """Data rows of a CSV file (quoted newlines respected, blank lines skipped, header excluded)."""
    if not path.is_file():
        raise CatalogError(f"{path}: track catalog not found")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        records = sum(1 for record in csv.reader(fh, delimiter=delimiter) if record)
    return max(records - 1, 0)


def _optional(path: Path, schema) -> pd.DataFrame | None:
    return read_table(path, schema, stage="build") if path.is_file() else None


def load_artifacts(catalog: DataCatalog) -> Artifacts:
    """Read the track CSV row count, the mining tables and (when built) the features tables.

    Raises:
        CatalogError: when the mining tables are missing (run `vocalmine mine` first) or malformed.
    """
    shards = catalog.shards
    quality = _optional(shards / QUALITY_FILE, QUALITY_SCHEMA)
    return Artifacts(
        catalog_rows=count_csv_rows(catalog.tracks.path, catalog.tracks.delimiter),
        pairs=read_table(catalog.pairs, PAIRS_SCHEMA, stage="mine"),
        rejects=read_table(catalog.rejects, REJECTS_SCHEMA, stage="mine"),
        quality=quality,
        index=_optional(shards / INDEX_FILE, INDEX_SCHEMA),
        features_rejects=_optional(shards / REJECTS_FILE, REJECTS_SCHEMA),
        build_settings=read_metadata(shards / QUALITY_FILE).settings if quality is not None else {},
    )


def _has_id(series: pd.Series) -> pd.Series:
    return series.notna() & (series.astype(str).str.len() > 0)


def _drops(stage: str, counts: dict[str, int]) -> tuple[Drop, ...]:
    items = sorted(((r, int(c)) for r, c in counts.items() if c), key=lambda rc: (-rc[1], rc[0]))
    return tuple(Drop(stage, reason, count) for reason, count in items)


def _pair_reasons(rejects: pd.DataFrame) -> pd.Series:
    """reason per pair_id (first row wins) of pair-level rejects."""
    with_id = rejects[_has_id(rejects["pair_id"])]
    return with_id.drop_duplicates("pair_id").set_index("pair_id")["reason"]


def features_outcome(*, quality: pd.DataFrame | None, features_rejects: pd.DataFrame | None) -> tuple[set[str],
                                                                                                      pd.Series]:
    """Kept pair ids and the reason of every pair the features stage set aside.

    A pair is dropped when quality.parquet says excluded or rejects.parquet
    names it; the reason comes from rejects.parquet first, quality.reason else.
    """
    reasons = pd.Series(dtype=object)
    if features_rejects is not None and len(features_rejects):
        reasons = _pair_reasons(features_rejects)
    kept: set[str] = set()
    if quality is not None and len(quality):
        excluded = quality[quality["status"] != KEPT]
        extra = excluded[~excluded["pair_id"].isin(reasons.index)].drop_duplicates("pair_id")
        extra_reasons = extra.set_index("pair_id")["reason"].replace("", "unknown")
        reasons = pd.concat([reasons, extra_reasons]) if len(reasons) else extra_reasons
        kept = set(quality.loc[quality["status"] == KEPT, "pair_id"]) - set(reasons.index)
    return kept, reasons


def compute_funnel(artifacts: Artifacts) -> Funnel:
    """The funnel from catalog rows to patches per split (see the module docstring for units)."""
    rejects = artifacts.rejects
    by_stage = {stage: rejects[rejects["stage"] == stage] for stage in ("ingest", "pairing", "content")}
    ingest = by_stage["ingest"]
    pairing = by_stage["pairing"]
    pairing_candidates = pairing[_has_id(pairing["pair_id"])]
    pairing_rows = pairing[~_has_id(pairing["pair_id"])]
    content_reasons = _pair_reasons(by_stage["content"])
    content_no_id = by_stage["content"][~_has_id(by_stage["content"]["pair_id"])]

    pair_ids = set(artifacts.pairs["pair_id"])
    matched = pair_ids | set(content_reasons.index)  # pairs.parquet may or may not hold content-rejected pairs
    candidate_losses = pairing_candidates[~pairing_candidates["pair_id"].isin(matched)].drop_duplicates("pair_id")
    n_pairs = len(matched)
    after_content = matched - set(content_reasons.index)

    # a content reject without a pair id is a row whose audio failed before pairing (undecodable, ...)
    steps = [
        FunnelStep("rows", "Catalog rows", artifacts.catalog_rows, "rows", ()),
        FunnelStep("valid", "Valid rows", artifacts.catalog_rows - len(ingest) - len(content_no_id), "rows",
                   _drops("ingest", ingest["reason"].value_counts().to_dict())
                   + _drops("content", content_no_id["reason"].value_counts().to_dict())),
        FunnelStep("candidates", "Candidates", n_pairs + len(candidate_losses), "pairs",
                   _drops("pairing", pairing_rows["reason"].value_counts().to_dict())),
        FunnelStep("pairs", "Matched pairs (one-to-one)", n_pairs, "pairs",
                   _drops("pairing", candidate_losses["reason"].value_counts().to_dict())),
    ]
    content_counts = content_reasons.value_counts().to_dict()
    steps.append(FunnelStep("content", "Pairs after content checks", len(after_content), "pairs",
                            _drops("content", content_counts)))

    built = artifacts.quality is not None or artifacts.features_rejects is not None
    kept, reasons = features_outcome(quality=artifacts.quality, features_rejects=artifacts.features_rejects)
    kept &= after_content
    reasons = reasons[reasons.index.isin(after_content)]
    feature_counts = reasons.value_counts().to_dict()
    if built:
        feature_counts[NOT_BUILT] = len(after_content - kept - set(reasons.index))
    steps.append(FunnelStep("kept", "Pairs kept after quality checks", len(kept) if built else None, "pairs",
                            _drops("features", feature_counts)))

    index = artifacts.index
    splits: list[SplitCount] = []
    if index is not None:
        index = index[index["pair_id"].isin(kept)] if built else index
        names = list(SPLITS) + sorted(set(index["split"]) - set(SPLITS))
        for split in names:
            part = index[index["split"] == split]
            splits.append(SplitCount(split, int(part["pair_id"].nunique()), len(part)))
    steps.append(FunnelStep("patches", "Patches", len(index) if index is not None else None, "patches", ()))
    return Funnel(tuple(steps), tuple(splits))


def quality_score(quality: pd.DataFrame) -> pd.Series:
    """One number per pair, higher is better: the lower of the whole-track and the worst segment's
    phase coherence (the quality gate's two measures; neither depends on how loud the vocal is).
    """
    whole = quality["coherence"].astype(float)
    segment = quality["segment_coherence"].astype(float).fillna(whole)
    return whole.combine(segment, min).fillna(0.0).astype(float)


@dataclass(frozen=True)
class Gate:
    """One exclusion rule of the quality gate as `build` applied it: a pair whose ``column`` is below
    ``threshold`` is excluded with ``reason``."""

    column: str  # a pairs-table column
    threshold: float
    reason: str  # the features reason code it gives
    setting: str  # the FeaturesConfig field that sets it
    opt_in: bool = False  # a rule that is off by default


def gate_rules(quality: pd.DataFrame | None, settings: Mapping) -> tuple[Gate, ...]:
    """The rules the quality gate applied, read from what build recorded (never today's defaults).

    Phase coherence (whole track and worst segment) is the gate: its thresholds are columns of
    quality.parquet, one Gate per distinct value (a build resumed with other settings has several).
    The opt-in alignment-confidence rule and the no-vocal rule come from the build's settings, when
    recorded and switched on. (The opt-in residual-ratio rule reads a column the report does not show.)

    Args:
        quality: quality.parquet rows, None before build.
        settings: the features config build ran with (Artifacts.build_settings).
    """
    rules: list[Gate] = []
    if quality is not None:
        for column, setting in (("coherence", "min_coherence"), ("segment_coherence", "min_segment_coherence")):
            for value in sorted(quality[setting].dropna().unique()):
                rules.append(Gate(column, float(value), "too_different", setting))
    for column, setting, reason, opt_in in (("align_confidence", "min_align_confidence", "too_different", True),
                                            ("vocal_ratio", "min_vocal_ratio", "too_similar", False)):
        value = settings.get(setting)
        if isinstance(value, (int, float)) and value > 0:
            rules.append(Gate(column, float(value), reason, setting, opt_in))
    return tuple(rules)


# status first, so it shows without scrolling sideways; then the gate's measures; the id last (for search and joins).
PAIR_COLUMNS = (
    "status", "reason", "artist", "original_title", "instrumental_title", "quality", "coherence", "segment_coherence",
    "segment_start_s", "listen", "split", "n_patches", "title_score", "duration_delta_s", "offset_s", "gain_db",
    "align_confidence", "vocal_ratio", "pair_id",
)
QUALITY_COLUMNS = ("offset_s", "gain_db", "align_confidence", "vocal_ratio", "coherence", "segment_coherence",
                   "segment_start_s")  # the quality record's columns the pairs table shows


def pairs_table(artifacts: Artifacts) -> pd.DataFrame:
    """One row per pair of pairs.parquet (PAIR_COLUMNS): mining scores joined with the features quality record.

    status is kept | excluded (features) | rejected (content) | not_built; listen is "" (the report marks
    the pairs whose worst segment it embeds).
    """
    pairs = artifacts.pairs
    table = pairs[["pair_id", "artist", "original_title", "instrumental_title", "title_score",
                   "duration_delta_s"]].copy()
    content = artifacts.rejects[artifacts.rejects["stage"] == "content"]
    content_reasons = _pair_reasons(content)
    if artifacts.quality is not None:
        quality = artifacts.quality.drop_duplicates("pair_id", keep="last").copy()
        quality["quality"] = quality_score(quality)
        cols = ["pair_id", *QUALITY_COLUMNS, "quality", "split", "n_patches"]
        table = table.merge(quality[cols], on="pair_id", how="left")
    else:
        for col in (*QUALITY_COLUMNS, "quality"):
            table[col] = np.nan
        table["split"], table["n_patches"] = "", 0
    table["segment_start_s"] = table["segment_start_s"].astype(float)  # all null in a table built before it existed
    table["listen"] = ""
    kept, reasons = features_outcome(quality=artifacts.quality, features_rejects=artifacts.features_rejects)
    status = np.where(table["pair_id"].isin(kept), KEPT,
                      np.where(table["pair_id"].isin(reasons.index), EXCLUDED, NOT_BUILT))
    reason = table["pair_id"].map(reasons).astype(object).fillna("")
    in_content = table["pair_id"].isin(content_reasons.index)
    status = np.where(in_content, "rejected", status)
    reason = reason.where(~in_content, table["pair_id"].map(content_reasons))
    table["status"], table["reason"] = status, reason.astype(str)
    table["split"] = table["split"].fillna("").astype(str)
    table["n_patches"] = table["n_patches"].fillna(0).astype(int)
    return table[list(PAIR_COLUMNS)].sort_values(["quality", "pair_id"], na_position="first").reset_index(drop=True)


# The rejects as a person reads them: the original row's fields in columns, not its JSON.
REJECT_COLUMNS = ("stage", "reason", "detail", "artist", "title", "instrumental_title", "tracks", "files", "pair_id")


def _shorten(path: str, audio_root: Path | None) -> str:
    """``path`` relative to ``audio_root`` when it lies inside it."""
    if not path or audio_root is None:
        return path or ""
    try:
        return str(Path(path).relative_to(audio_root))
    except ValueError:
        return path


def _join(*parts) -> str:
    return " + ".join(str(p) for p in parts if p not in (None, ""))


def reject_fields(row: str, *, stage: str, track_id: str, columns: ColumnMap | None = None,
                  audio_root: Path | None = None, titles: dict[str, str] | None = None) -> dict[str, str]:
    """The readable columns of one reject (REJECT_COLUMNS minus stage, reason, detail, pair_id).

    Args:
        row: the reject's ``row`` JSON: a catalog row under the CSV's own column names (ingest;
            {"raw": text} for a malformed line) or a pair record (pairing, content, features).
        stage: the reject's stage (a content reject may also hold one validated track).
        track_id: the reject's track_id column.
        columns: the catalog's column mapping, to read an ingest row's fields.
        audio_root: audio paths are shown relative to it.
        titles: track id -> (artist, title) known from other tables, for pair records without titles.
    """
    try:
        data = json.loads(row) if row else {}
    except ValueError:
        data = {"raw": row}
    if not isinstance(data, dict):
        data = {"raw": row}
    get = lambda key: "" if key is None or data.get(key) is None else str(data[key])  # noqa: E731
    if "raw" in data and len(data) == 1:
        return {"artist": "", "title": str(data["raw"])[:200], "instrumental_title": "", "tracks": track_id,
                "files": ""}
    if stage == "ingest":
        cols = columns or ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration",
                                    audio_path="audio_path")
        return {"artist": get(cols.artist), "title": get(cols.title), "instrumental_title": "",
                "tracks": track_id or (get(cols.track_id) if "+" not in cols.track_id else ""),
                "files": _shorten(get(cols.audio_path), audio_root)}
    if "original_id" not in data and "instrumental_id" not in data:  # a validated track (row-level content reject)
        return {"artist": get("artist"), "title": get("title"), "instrumental_title": "",
                "tracks": track_id or get("track_id"), "files": _shorten(get("audio_path"), audio_root)}
    titles = titles or {}
    original, instrumental = get("original_id"), get("instrumental_id")
    known_o, known_i = titles.get(original, ("", "")), titles.get(instrumental, ("", ""))
    return {
        "artist": get("artist") or known_o[0] or known_i[0],
        "title": get("original_title") or known_o[1],
        "instrumental_title": get("instrumental_title") or known_i[1],
        "tracks": _join(original, instrumental) or track_id,
        "files": _join(_shorten(get("original_path"), audio_root), _shorten(get("instrumental_path"), audio_root)),
    }


def _known_titles(artifacts: Artifacts, rows: pd.Series) -> dict[str, tuple[str, str]]:
    """track id -> (artist, title) from pairs.parquet and the reject rows that carry titles,
    for rejects whose record names ids only (a content check's pair)."""
    out: dict[str, tuple[str, str]] = {}
    p = artifacts.pairs
    for side in ("original", "instrumental"):
        for tid, artist, title in zip(p[f"{side}_id"], p["artist"], p[f"{side}_title"]):
            out.setdefault(str(tid), (str(artist), str(title)))
    for row in rows[rows.str.contains('_title"|"title"', regex=True)]:
        try:
            data = json.loads(row)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        artist = str(data.get("artist") or "")
        for id_key, title_key in (("original_id", "original_title"), ("instrumental_id", "instrumental_title"),
                                  ("track_id", "title")):
            if data.get(id_key) and data.get(title_key):
                out.setdefault(str(data[id_key]), (artist, str(data[title_key])))
    return out


def rejects_table(artifacts: Artifacts, *, columns: ColumnMap | None = None, audio_root: Path | None = None,
                  text_chars: int = 160) -> pd.DataFrame:
    """Every reject of every stage (REJECT_COLUMNS); quality-excluded pairs without a reject row are added.

    The original row (JSON in rejects.parquet) is spread into readable columns; each text cell is
    cut to ``text_chars`` characters to bound the page size.
    """
    parts = [artifacts.rejects]
    if artifacts.features_rejects is not None:
        parts.append(artifacts.features_rejects)
    if artifacts.quality is not None:
        known = set(artifacts.features_rejects["pair_id"]) if artifacts.features_rejects is not None else set()
        extra = artifacts.quality[(artifacts.quality["status"] != KEPT) & ~artifacts.quality["pair_id"].isin(known)]
        if len(extra):
            parts.append(pd.DataFrame({
                "stage": "features", "reason": extra["reason"].replace("", "unknown"), "track_id": "",
                "pair_id": extra["pair_id"], "detail": "excluded in quality.parquet", "row": "",
            }))
    raw = pd.concat([p[["stage", "reason", "track_id", "pair_id", "detail", "row"]] for p in parts],
                    ignore_index=True).fillna("")
    titles = _known_titles(artifacts, raw["row"].astype(str))
    fields = pd.DataFrame([
        reject_fields(str(row), stage=str(stage), track_id=str(tid), columns=columns, audio_root=audio_root,
                      titles=titles)
        for row, stage, tid in zip(raw["row"], raw["stage"], raw["track_id"])
    ], columns=["artist", "title", "instrumental_title", "tracks", "files"], index=raw.index)
    table = pd.concat([raw[["stage", "reason", "detail", "pair_id"]].astype(str), fields], axis=1)[list(REJECT_COLUMNS)]
    for col in ("detail", "artist", "title", "instrumental_title", "files"):
        text = table[col]
        table[col] = text.where(text.str.len() <= text_chars, text.str.slice(0, text_chars) + "…")
    order = {stage: i for i, stage in enumerate(STAGES)}
    table["_order"] = table["stage"].map(order).fillna(len(order))
    return table.sort_values(["_order", "reason", "tracks", "pair_id"]).drop(columns="_order").reset_index(drop=True)


def worst_segments(table: pd.DataFrame, n: int) -> list[str]:
    """pair_id of the ``n`` pairs with the lowest worst-segment coherence that know where that segment is.

    Kept and excluded pairs alike: an excluded one is what a person most wants to hear.
    """
    known = table[np.isfinite(table["segment_coherence"].astype(float)) & np.isfinite(table["segment_start_s"])]
    return known.sort_values(["segment_coherence", "pair_id"])["pair_id"].head(max(n, 0)).astype(str).tolist()


def pick_examples(table: pd.DataFrame, index: pd.DataFrame | None) -> list[tuple[str, str]]:
    """(label, pair_id) of the best, median and worst kept pairs that have patches, by quality (quality_score)."""
    if index is None or not len(table):
        return []
    ok = table[(table["status"] == KEPT) & table["pair_id"].isin(set(index["pair_id"])) & table["quality"].notna()]
    ok = ok.sort_values(["quality", "pair_id"], ascending=[False, True]).reset_index(drop=True)
    if not len(ok):
        return []
    picks = [("best", 0), ("median", len(ok) // 2), ("worst", len(ok) - 1)]
    seen: set[int] = set()
    out = []
    for label, i in picks:
        if i not in seen:
            seen.add(i)
            out.append((label, str(ok.loc[i, "pair_id"])))
    return out


def example_spectrograms(shards: Path, index: pd.DataFrame, pair_id: str, *, start_frame: int = 0,
                         frames: int = 128) -> np.ndarray:
    """X, g·Y_i and Y_v of one pair from its stored waveforms, frames [start_frame, start_frame + frames).

    Returns:
        float32 array (3, bins, n) with n <= frames at the shards' signal spec, normalised by the pair's scale
        (X lies in [0, 1]); an empty window is moved back to the pair's last frames.
    """
    import torch  # here: the report's other pages need no torch

    rows = index[index["pair_id"] == pair_id]
    if not len(rows):
        raise CatalogError(f"{shards}/index.parquet: no patches for pair {pair_id}")
    row = rows.iloc[0]
    total = int((rows["start_frame"] + rows["valid_frames"]).max())
    start = max(0, min(start_frame, total - frames))
    stop = min(total, start + frames)
    spec = read_spec(shards)  # the shards' rate, channels and STFT
    # the samples behind frames [start, stop) of the core STFT: frame t covers [t·hop − n_fft/2, t·hop + n_fft/2)
    first = start * spec.hop - spec.n_fft // 2
    wave = read_window(open_shard(shards, int(row["shard"]), spec.channels), int(row["offset"]), int(row["samples"]),
                       first, (stop - start - 1) * spec.hop + spec.n_fft)
    wave = wave.reshape(2, spec.channels, -1).mean(axis=1)  # original, g·instrumental: a stereo pair shown as its mid
    stft = torch_stft(torch.from_numpy(wave), n_fft=spec.n_fft, hop=spec.hop, center=False).numpy()
    out = magnitude(stft, spec.bins) / float(row["scale"])
    vocal = vocal_target(out[0], out[1])
    return np.stack([out[0], out[1], vocal])
