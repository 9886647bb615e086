"""Fabricated, schema-conforming artifacts of every stage the report reads.

``fabricate(root, ...)`` writes a track CSV, small WAV files, pairs.parquet,
rejects.parquet and a features folder (real shards computed from the WAVs,
index.parquet, quality.parquet, rejects.parquet) and returns the DataCatalog
and the counts the report must show. The report tests use it, and
bench/bench_report.py fabricates 10^4 pairs with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from vocalmine.core.atomic import save_npy_atomic
from vocalmine.core.catalog import DataCatalog, catalog_for_corpus, load_catalog
from vocalmine.core.constants import PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.tables import REJECTS_SCHEMA, write_table
from vocalmine.core.contract.shards import INDEX_SCHEMA, QUALITY_SCHEMA, shard_path
from vocalmine.core.stft import magnitude, n_frames, stft
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, pair_id_for
from vocalmine.core.contract.shards import INDEX_FILE, QUALITY_FILE

INGEST = ["missing_title", "bad_duration", "duplicate_id", "audio_not_found", "path_escapes_root"]
CANDIDATE = ["title_mismatch", "duration_mismatch", "lost_to_better_match"]
CONTENT = ["same_content", "duplicate_recording", "undecodable"]
FEATURES = ["too_different", "silent"]
HOSTILE = '<script>alert("x")</script> & Co'  # an artist name the page must escape
# Settings recorded in the fabricated artifacts' metadata; not the defaults, so the report must read them.
MINE_SETTINGS = {"engine": "pandas", "title_threshold": 87.5, "duration_tolerance_s": 3.0}
BUILD_SETTINGS = {"max_offset_s": 1.5, "seed": 3}


@dataclass
class Fabricated:
    """A fabricated catalog and the numbers the report must show."""

    catalog: DataCatalog
    catalog_rows: int
    n_pairs: int  # rows of pairs.parquet
    n_candidates: int
    n_after_content: int
    n_kept: int
    n_patches: int
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)  # (stage, reason) -> count


def _song(rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(accompaniment, vocal) mono float32 at SAMPLE_RATE: chords and a vibrato voice with pauses."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    root = rng.uniform(90, 180)
    acc = sum(0.12 * np.sin(2 * np.pi * root * k * t + rng.uniform(0, 6)) / k for k in (1, 1.5, 2, 3, 4))
    acc = acc + 0.02 * rng.standard_normal(len(t))
    f0 = rng.uniform(220, 440) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(0.15 * np.sin(k * phase) / k for k in range(1, 6)) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    return acc.astype(np.float32), voice.astype(np.float32)


def _patches(original: np.ndarray, instrumental: np.ndarray) -> tuple[np.ndarray, float]:
    """The stored waveforms (2, n) float16 of an aligned pair (vocalmine/core/contract/shards.py), and the scale."""
    scale = float(magnitude(stft(original)).max()) or 1.0
    return np.stack([original, instrumental]).astype(np.float16), scale


def fabricate(root: Path, *, n_pairs: int = 12, n_artists: int = 5, audio_files: int | None = None,
              seconds: float = 3.0, seed: int = 0) -> Fabricated:
    """Write a full set of artifacts under ``root`` (see the module docstring).

    Args:
        n_pairs: matched pairs in pairs.parquet (>= 8).
        audio_files: distinct audio pairs to write; pairs beyond reuse them (and their patches).
            Default: one per pair.
        seconds: length of each fabricated song.
    """
    rng = np.random.default_rng(seed)
    corpus, work = root / "corpus", root / "work"
    (corpus / "audio").mkdir(parents=True, exist_ok=True)
    shards = work / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    audio_files = n_pairs if audio_files is None else min(audio_files, n_pairs)
    artists = [f"Artist {i:03d}" for i in range(n_artists - 1)] + [HOSTILE]

    rows, pairs, quality, index = [], [], [], []
    reasons: dict[tuple[str, str], int] = {}
    shard_arrays, audio_cache = [], {}
    for k in range(n_pairs):
        artist = artists[k % n_artists]
        orig_id, inst_id = f"T{2 * k:05d}", f"T{2 * k + 1:05d}"
        title = f"Song {k} <b>" if k == 1 else f"Song {k}"
        a = k % audio_files
        if a not in audio_cache:
            acc, voice = _song(rng, seconds)
            gain = float(rng.uniform(0.6, 1.2))
            offset = int(rng.integers(-400, 400))
            original = acc + voice
            # instrumental(t + offset) = accompaniment(t) / gain
            if offset >= 0:
                instrumental = np.concatenate([np.zeros(offset, np.float32), acc / gain])
            else:
                instrumental = (acc / gain)[-offset:]
            o_path, i_path = corpus / "audio" / f"A{a:05d}.wav", corpus / "audio" / f"A{a:05d}i.wav"
            sf.write(o_path, original, SAMPLE_RATE, subtype="PCM_16")
            sf.write(i_path, instrumental, SAMPLE_RATE, subtype="PCM_16")
            patches, scale = _patches(original, acc)
            audio_cache[a] = (o_path, i_path, gain, offset, len(shard_arrays), patches, scale)
            shard_arrays.append(patches)
        o_path, i_path, gain, offset, shard, patches, scale = audio_cache[a]
        for tid, t, p in ((orig_id, title, o_path), (inst_id, f"{title} (Instrumental)", i_path)):
            rows.append({"track_id": tid, "artist": artist, "title": t, "duration": seconds,
                         "audio_path": str(p.relative_to(corpus)), "album": "", "isrc": "", "release_date": ""})
        pid = pair_id_for(orig_id, inst_id)
        pairs.append({
            "pair_id": pid, "original_id": orig_id, "instrumental_id": inst_id, "artist": artist,
            "artist_norm": artist.lower(), "original_title": title, "instrumental_title": f"{title} (Instrumental)",
            "base_title": title.lower(), "title_score": float(rng.uniform(85, 100)), "title_threshold": 85.0,
            "original_duration_s": seconds, "instrumental_duration_s": seconds + offset / SAMPLE_RATE,
            "duration_delta_s": float(rng.normal(0, 0.5)), "original_path": str(o_path),
            "instrumental_path": str(i_path),
            "original_fingerprint": f"{a:016x}", "instrumental_fingerprint": f"{a + 1:016x}",
            "marker": "instrumental", "marker_family": "instrumental",
        })
        split = ("train", "train", "validation", "test")[k % n_artists % 4]
        excluded = FEATURES[k % len(FEATURES)] if k % 7 == 3 else ""
        quality.append({
            "pair_id": pid, "artist_norm": artist.lower(), "split": split, "status": "excluded" if excluded else "kept",
            "reason": excluded, "duration_s": seconds, "offset_samples": offset, "offset_s": offset / SAMPLE_RATE,
            "gain": gain, "gain_db": 20 * np.log10(gain), "align_confidence": float(rng.uniform(0.3, 1.0)),
            "vocal_ratio": float(rng.uniform(0.05, 0.6)), "residual_ratio": float(rng.uniform(0, 0.5)),
            # the hostile artist's pairs rank best, so an example caption carries the name the page must escape
            "coherence": 1.0 if artist == HOSTILE else float(rng.uniform(0.9, 0.99)),
            "segment_coherence": 1.0 if artist == HOSTILE else float(rng.uniform(0.8, 0.99)),
            "segment_start_s": 0.5 * (k % 3),  # where that segment starts, inside the song
            "carried_fraction": float(rng.uniform(0.3, 0.9)), "min_coherence": 0.9, "min_segment_coherence": 0.8,
            "clip_fraction": 0.0, "silence_fraction": float(rng.uniform(0, 0.1)),
            "n_patches": 0 if excluded else -(-n_frames(patches.shape[1]) // PATCH_FRAMES), "scale": scale,
        })
        if excluded:
            reasons[("features", excluded)] = reasons.get(("features", excluded), 0) + 1
            continue
        frames = n_frames(int(seconds * SAMPLE_RATE))
        for j in range(-(-frames // PATCH_FRAMES)):
            index.append({"patch_id": f"{pid}-{j:05d}", "pair_id": pid, "shard": shard, "offset": 0,
                          "samples": patches.shape[1], "start_frame": j * PATCH_FRAMES,
                          "valid_frames": min(PATCH_FRAMES, frames - j * PATCH_FRAMES), "split": split, "scale": scale,
                          "gain": 1.0, "delay": 0.0})

    rejects = []
    def reject(stage, reason, track_id="", pair_id=""):
        rejects.append({"stage": stage, "reason": reason, "track_id": track_id, "pair_id": pair_id,
                        "detail": f"fabricated {reason}", "row": '{"title": "x"}'})
        reasons[(stage, reason)] = reasons.get((stage, reason), 0) + 1

    scale = max(1, n_pairs // 12)  # rejects grow with the catalog
    for j, reason in enumerate(INGEST * 2 * scale):
        tid = f"B{j:05d}"
        rows.append({"track_id": tid, "artist": "Bad", "title": "" if reason == "missing_title" else "Bad",
                     "duration": "x" if reason == "bad_duration" else 3.0, "audio_path": "nowhere.wav",
                     "album": "", "isrc": "", "release_date": ""})
        reject("ingest", reason, tid)
    for j in range(3):
        tid = f"O{j:05d}"
        rows.append({"track_id": tid, "artist": artists[j], "title": f"Orphan {j} (Instrumental)", "duration": 3.0,
                     "audio_path": "audio/A00000i.wav", "album": "", "isrc": "", "release_date": ""})
        reject("pairing", "no_original", tid)
    n_candidate_rejects = 0
    for j, reason in enumerate(CANDIDATE * 2 * scale):
        orig, inst = f"T{2 * (j % n_pairs):05d}", f"O{j % 3:05d}"
        reject("pairing", reason, inst, pair_id_for(orig, f"{inst}-{reason}-{j}"))
        n_candidate_rejects += 1
    for j, reason in enumerate(CONTENT):
        tid = f"C{j:05d}"
        for suffix, t in (("o", "Dup"), ("i", "Dup (Instrumental)")):
            rows.append({"track_id": tid + suffix, "artist": artists[0], "title": t, "duration": 3.0,
                         "audio_path": "audio/A00000.wav", "album": "", "isrc": "", "release_date": ""})
        reject("content", reason, tid + "i", pair_id_for(tid + "o", tid + "i"))

    pd.DataFrame(rows).to_csv(corpus / "catalog.csv", index=False)
    mine, build = {"stage": "mine", "settings": MINE_SETTINGS}, {"stage": "build", "settings": BUILD_SETTINGS}
    write_table(pd.DataFrame(pairs), work / "pairs.parquet", PAIRS_SCHEMA, **mine)
    write_table(pd.DataFrame(rejects), work / "rejects.parquet", REJECTS_SCHEMA, **mine)
    q = pd.DataFrame(quality)
    write_table(q, shards / QUALITY_FILE, QUALITY_SCHEMA, **build)
    write_table(pd.DataFrame(index, columns=INDEX_SCHEMA.names), shards / INDEX_FILE, INDEX_SCHEMA, **build)
    frej = q[q["status"] == "excluded"]
    write_table(pd.DataFrame({"stage": "features", "reason": frej["reason"], "track_id": "", "pair_id": frej["pair_id"],
                              "detail": "fabricated", "row": ""}), shards / "rejects.parquet", REJECTS_SCHEMA, **build)
    for s, array in enumerate(shard_arrays):
        save_npy_atomic(shard_path(shards, s), array)

    yaml_file = root / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus, work), encoding="utf-8")
    n_kept = int((q["status"] == "kept").sum())
    return Fabricated(
        catalog=load_catalog(yaml_file), catalog_rows=len(rows), n_pairs=n_pairs,
        n_candidates=n_pairs + len(CONTENT) + n_candidate_rejects, n_after_content=n_pairs, n_kept=n_kept,
        n_patches=len(index), reasons=reasons,
    )
