"""Pairing: blocking by artist, verdicts, one-to-one tie-breaks, dask engine == pandas engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.engines import match_tracks
from vocalmine.mining.matching import PAIRED, split_decisions
from vocalmine.core.contract.pairs import pair_id_for


def tracks(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "track_id": [r[0] for r in rows],
            "artist": [r[1] for r in rows],
            "title": [r[2] for r in rows],
            "duration_s": [float(r[3]) for r in rows],
            "audio_path": "",
        }
    )


def verdicts(decisions: pd.DataFrame) -> dict[tuple, str]:
    return {(o if isinstance(o, str) else None, i): s for o, i, s in zip(decisions["original_id"], decisions["instrumental_id"], decisions["status"])}


def test_blocked_by_artist_no_cross_artist_candidates():
    df = tracks(
        [
            ("A1", "Luther Vandross", "Stop To Love", 295),
            ("A2", "Luther Vandross", "Stop To Love (Instrumental)", 295),
            ("B1", "Intro (3)", "Stop To Love", 295),  # same title, other artist
            ("C2", "Calvin Harris", "I'm Not Alone (Instrumental)", 165),  # orphan
        ]
    )
    decisions = match_tracks(df, config=MiningConfig())
    assert verdicts(decisions) == {("A1", "A2"): PAIRED, (None, "C2"): R.NO_ORIGINAL}
    artists_o = df.set_index("track_id").loc[decisions["original_id"].dropna(), "artist"].tolist()
    assert artists_o == ["Luther Vandross"]


def test_artist_spellings_share_a_block():
    df = tracks(
        [
            ("O", "Critical Point Feat. Vikter Duplaix", "Messages", 260),
            ("I", "Critical Point featuring Vikter Duplaix", "Messages (Instrumental)", 260),
        ]
    )
    assert verdicts(match_tracks(df, config=MiningConfig())) == {("O", "I"): PAIRED}


def test_verdicts_title_qualifier_and_duration():
    df = tracks(
        [
            ("L1", "Band", "Song (Live)", 200),  # live take: qualifier differs
            ("L2", "Band", "Song", 200),
            ("L3", "Band", "Song (Instrumental)", 201),
            ("R1", "Band", "Song (Remix)", 300),
            ("R2", "Band", "Song (Remix) [Instrumental]", 299),
            ("E1", "Other", "Long Way Home", 200),
            ("E2", "Other", "Long Way Home - Instrumental", 260),  # another edit
        ]
    )
    decisions = match_tracks(df, config=MiningConfig(duration_tolerance_s=4.0))
    v = verdicts(decisions)
    assert v[("L2", "L3")] == PAIRED and v[("R1", "R2")] == PAIRED
    assert v[("L1", "L3")] == R.TITLE_MISMATCH
    assert v[("E1", "E2")] == R.DURATION_MISMATCH
    pairs, rejects = split_decisions(decisions)
    assert set(pairs["pair_id"]) == {pair_id_for("L2", "L3"), pair_id_for("R1", "R2")}
    row = rejects[rejects["reason"] == R.DURATION_MISMATCH].iloc[0]
    assert row["track_id"] == "E2" and row["pair_id"] == pair_id_for("E1", "E2") and "+60.0 s" in row["detail"]
    assert (pairs["title_threshold"] == 90.0).all() and (pairs["title_score"] == 100.0).all()


def test_one_to_one_tie_breaks_in_contract_order():
    df = tracks(
        [
            # score wins over duration: exact title beats a typo with a closer duration
            ("S1", "A", "Stoppin", 200),
            ("S2", "A", "Stopin", 201),
            ("S3", "A", "Stoppin (Instrumental)", 201),
            # equal score: smaller |duration delta| wins
            ("D1", "B", "Tune", 200),
            ("D2", "B", "Tune", 203),
            ("D3", "B", "Tune (Instrumental)", 202.5),
            # equal score and delta: smaller original_id, then smaller instrumental_id
            ("T2", "C", "Air", 100),
            ("T1", "C", "Air", 100),
            ("T4", "C", "Air (Instrumental)", 100),
            ("T3", "C", "Air [Instrumental Version]", 100),
        ]
    )
    v = verdicts(match_tracks(df, config=MiningConfig(title_threshold=80)))
    assert v[("S1", "S3")] == PAIRED and v[("S2", "S3")] == R.LOST_TO_BETTER_MATCH
    assert v[("D2", "D3")] == PAIRED and v[("D1", "D3")] == R.LOST_TO_BETTER_MATCH
    assert v[("T1", "T3")] == PAIRED and v[("T2", "T4")] == PAIRED
    assert v[("T1", "T4")] == R.LOST_TO_BETTER_MATCH and v[("T2", "T3")] == R.LOST_TO_BETTER_MATCH


def random_catalog(n_artists: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = ["love", "night", "fire", "dream", "heart", "river", "gold", "rain", "city", "blue"]
    rows = []
    for a in range(n_artists):
        artist = f"Artist {a}" + (" feat. Guest" if a % 7 == 0 else "")
        for s in range(int(rng.integers(1, 8))):
            title = " ".join(rng.choice(words, size=2)) + f" {s % 3}"
            dur = float(rng.uniform(120, 300))
            rows.append((f"{a:04d}-{s}", artist, title, dur))
            if rng.random() < 0.4:
                mark = rng.choice([" (Instrumental)", " - Instrumental", " [Instrumental Version]"])
                rows.append((f"{a:04d}-{s}i", f"Artist {a}", title + mark, dur + rng.uniform(-6, 6)))
    return tracks(rows)


@pytest.mark.parametrize("partitions", [1, 3])
def test_dask_engine_equals_pandas_row_for_row(partitions):
    df = random_catalog(60, seed=partitions)
    config = MiningConfig(dask_partitions=partitions)
    a = match_tracks(df, config=config, engine="pandas")
    b = match_tracks(df.sample(frac=1.0, random_state=0), config=config, engine="dask", scheduler="sync")
    assert len(a) > 50 and (a["status"] == PAIRED).sum() > 10
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("colliding", [False, True])
def test_dask_ingest_and_pairing_in_blocks_equal_pandas(tmp_path, monkeypatch, colliding):
    from vocalmine.core.catalog import ColumnMap, TrackCatalog
    from vocalmine.mining import engines
    from vocalmine.mining.engines import pair_catalog

    if colliding:  # id hashes that collide everywhere: the exact comparison alone must find the duplicates
        real = engines.id_hashes
        monkeypatch.setattr(engines, "id_hashes", lambda raw, column: (real(raw, column)[0],
                                                                      real(raw, column)[1] % np.uint64(3)))

    df = random_catalog(80, seed=5)
    lines = ["id,artist,title,duration_ms"]
    for k, (t, a, title, d) in enumerate(zip(df["track_id"], df["artist"], df["title"], df["duration_s"])):
        lines.append(f'{t},{a},"{title}",{int(d * 1000)}')
        if k % 37 == 5:
            lines.append(f"{t},{a},dup of {t},200000")  # duplicate id, lands in a later block
        if k % 41 == 7:
            lines.append(f"X{k},{a},,200000")  # missing title
            lines.append(f"Y{k},{a},Song,-5")  # bad duration
    csv = tmp_path / "catalog.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tracks = TrackCatalog(path=csv, audio_root=tmp_path, columns=ColumnMap(track_id="id", artist="artist", title="title", duration="duration_ms"), duration_unit="ms")
    a = pair_catalog(tracks, config=MiningConfig(), engine="pandas")
    b = pair_catalog(tracks, config=MiningConfig(dask_blocksize=2048, dask_partitions=3), engine="dask", scheduler="sync")
    assert (a.n_rows, a.n_valid) == (b.n_rows, b.n_valid) and a.n_rows == len(lines) - 1
    assert set(a.rejects["reason"]) == {R.DUPLICATE_ID, R.MISSING_TITLE, R.BAD_DURATION}
    pd.testing.assert_frame_equal(a.rejects, b.rejects, check_dtype=False)
    pd.testing.assert_frame_equal(a.decisions, b.decisions, check_dtype=False)
