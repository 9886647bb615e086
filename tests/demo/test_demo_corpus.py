"""The generated demo corpus: truth consistency, traps, stems/offset/gain, eval set, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from vocalmine.core.audio import load_audio
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.errors import AudioError, ConfigError
from vocalmine.core.paths import resolve_under
from vocalmine.demo import plan as P
from vocalmine.demo.corpus import CATALOG_COLUMNS, _prepare, generate_corpus
from vocalmine.demo.family import render_eval_song
from vocalmine.core.contract import features_reasons as FR
from vocalmine.core.contract import mining_reasons as MR
from vocalmine.mining.config import MiningConfig

# the session corpus of tests/conftest.py (demo_corpus fixture)
TEST_CORPUS_SONGS, TEST_EVAL_SONGS, TEST_SONG_SECONDS = 10, 3, (6.0, 9.0)

# what each trap kind must record (stage, reason) on the track that carries the verdict
EXPECTED = {
    P.OTHER_ARTIST: ("pairing", MR.NO_ORIGINAL),
    P.ORPHAN: ("pairing", MR.NO_ORIGINAL),
    P.DIFFERENT_EDIT: ("pairing", MR.DURATION_MISMATCH),
    P.SAME_AUDIO: ("content", MR.SAME_CONTENT),
    P.RERELEASE: ("content", MR.DUPLICATE_RECORDING),
    P.CORRUPT_AUDIO: ("content", MR.UNDECODABLE),
    P.DIFFERENT_RECORDING: ("features", FR.TOO_DIFFERENT),
    P.LIVE_TAKE: ("", ""),
    P.REMIX: ("", ""),
    **{reason: ("ingest", reason) for reason in MR.INGEST_REASONS},
}


def _read(corpus: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(corpus / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def tables(demo_corpus):
    return _read(demo_corpus, "catalog.csv"), _read(demo_corpus, "truth_tracks.csv"), _read(demo_corpus, "truth_pairs.csv")


@pytest.mark.slow
def test_catalog_has_contract_columns_and_loads_with_the_default_mapping(demo_corpus, tables, tmp_path):
    catalog, truth, _ = tables
    assert tuple(catalog.columns) == CATALOG_COLUMNS
    assert list(catalog.track_id) == list(truth.track_id)  # one truth row per catalog row, same order
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, demo_corpus, tmp_path / "work"), encoding="utf-8")
    loaded = load_catalog(yaml_file)
    assert loaded.tracks.path == (demo_corpus / "catalog.csv").resolve()
    assert loaded.eval_set.path.is_file()


def test_every_trap_kind_is_present_with_its_expected_reason(tables):
    _, truth, _ = tables
    assert set(P.TRAP_KINDS) <= set(truth.trap)
    for kind, (stage, reason) in EXPECTED.items():
        rows = truth[truth.trap == kind]
        verdicts = set(zip(rows.expected_stage, rows.expected_reason))
        assert (stage, reason) in verdicts, f"{kind}: {verdicts}"
        # a trap never carries a verdict of another stage
        assert verdicts <= {(stage, reason), ("", "")}, f"{kind}: {verdicts}"
    assert set(truth.expected_reason) - {""} <= set(MR.INGEST_REASONS + MR.PAIRING_REASONS + MR.CONTENT_REASONS + FR.FEATURES_REASONS)
    assert set(truth.role) == {"original", "instrumental", "malformed"}
    assert (truth[truth.role == "malformed"].expected_stage == "ingest").all()


def test_truth_pairs_name_real_tracks_in_the_right_roles(tables, demo_corpus):
    catalog, truth, pairs = tables
    valid = truth[truth.role != "malformed"].set_index("track_id")
    assert valid.index.is_unique
    assert len(pairs) >= P.MIN_SONGS - 3  # album pairs + remix pair + different_recording pair
    assert pairs.original_id.is_unique and pairs.instrumental_id.is_unique  # one-to-one
    for row in pairs.itertuples():
        assert valid.loc[row.original_id, "role"] == "original"
        assert valid.loc[row.instrumental_id, "role"] == "instrumental"
        assert valid.loc[row.instrumental_id, "expected_reason"] == row.features_reason
        assert valid.loc[row.instrumental_id, "song_id"] == row.song_id
        assert (demo_corpus / "stems" / f"{row.song_id}.vocals.wav").is_file()
    # no instrumental expected to be rejected is in the truth, and every clean instrumental is
    clean = valid[(valid.role == "instrumental") & (valid.expected_stage.isin(["", "features"]))]
    assert set(clean.index) == set(pairs.instrumental_id)
    assert (pairs.features_reason == FR.TOO_DIFFERENT).sum() == 1
    good = pairs[pairs.features_reason == ""]
    offsets = good.offset_s.astype(float)
    assert (offsets.abs() <= 0.5).all() and (offsets * 8192 == (offsets * 8192).round()).all()
    assert (good.gain.astype(float).between(0.3, 3.0)).all()


def test_files_exist_except_for_the_malformed_rows_that_say_so(tables, demo_corpus):
    catalog, truth, _ = tables
    merged = catalog.assign(trap=truth.trap.values)
    for row in merged.itertuples():
        if row.trap in (MR.MISSING_AUDIO_PATH, MR.AUDIO_NOT_FOUND):
            assert row.audio_path == "" or not (demo_corpus / row.audio_path).exists()
        elif row.trap == MR.PATH_ESCAPES_ROOT:
            with pytest.raises(Exception, match="escapes"):
                resolve_under(demo_corpus, row.audio_path)
        else:
            assert (demo_corpus / row.audio_path).is_file(), row
    suffixes = {Path(p).suffix for p in catalog.audio_path if p}
    assert {".wav", ".flac"} <= suffixes


def test_live_take_stays_unpaired_and_remix_pairs_with_its_own_instrumental(tables):
    catalog, truth, pairs = tables
    paired = set(pairs.original_id) | set(pairs.instrumental_id)
    live = truth[truth.trap == P.LIVE_TAKE]
    assert (live.role == "original").all() and not set(live.track_id) & paired
    remix = truth[truth.trap == P.REMIX]
    assert sorted(remix.role) == ["instrumental", "original"]
    pair = pairs[pairs.original_id == remix[remix.role == "original"].track_id.iloc[0]]
    assert list(pair.instrumental_id) == list(remix[remix.role == "instrumental"].track_id)
    album_song = pair.song_id.iloc[0][:-1]
    assert album_song in set(pairs.song_id) and pair.song_id.iloc[0] != album_song
    titles = catalog.set_index("track_id").title
    assert "remix" in titles[pair.original_id.iloc[0]].lower()
    assert "live" in titles[live.track_id.iloc[0]].lower()


def test_rerelease_ids_sort_after_the_album_release(tables):
    catalog, truth, pairs = tables
    for song_id in truth[truth.trap == P.RERELEASE].song_id.unique():
        album = truth[(truth.song_id == song_id) & (truth.trap == "")]
        later = truth[(truth.song_id == song_id) & (truth.trap == P.RERELEASE)]
        for role in ("original", "instrumental"):
            assert album[album.role == role].track_id.max() < later[later.role == role].track_id.min()
        assert set(album.track_id) <= set(pairs.original_id) | set(pairs.instrumental_id)


def test_trap_audio_is_what_the_truth_says(tables, demo_corpus):
    catalog, truth, _ = tables
    first = catalog.drop_duplicates("track_id").set_index("track_id")
    path = {tid: demo_corpus / first.loc[tid, "audio_path"] for tid in first.index if first.loc[tid, "audio_path"]}

    def tracks(trap, role=None):
        rows = truth[(truth.trap == trap) & ((truth.role == role) if role else True)]
        return list(rows.itertuples())

    corrupt = tracks(P.CORRUPT_AUDIO)[0]
    with pytest.raises(AudioError, match="cannot decode"):
        load_audio(path[corrupt.track_id])
    same = tracks(P.SAME_AUDIO)[0]
    original = truth[(truth.song_id == same.song_id) & (truth.role == "original")].track_id.iloc[0]
    assert Path(path[same.track_id]).suffix != Path(path[original]).suffix
    # WAV and FLAC writers round to 16 bits differently: equal to about one LSB, not bit-identical
    a, b = load_audio(path[same.track_id]), load_audio(path[original])
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-3
    for re_inst in tracks(P.RERELEASE, "instrumental"):
        album = truth[(truth.song_id == re_inst.song_id) & (truth.role == "instrumental") & (truth.trap == "")].track_id.iloc[0]
        a, b = load_audio(path[album]), load_audio(path[re_inst.track_id])
        assert abs(a.size - b.size) <= 1 and np.abs(a[: b.size] - b[: a.size]).max() < 1e-3
    edit = tracks(P.DIFFERENT_EDIT)[0]
    edit_original = truth[(truth.song_id == edit.song_id) & (truth.role == "original")].track_id.iloc[0]
    delta = abs(float(first.loc[edit.track_id, "duration"]) - float(first.loc[edit_original, "duration"]))
    assert delta > 2 * MiningConfig().duration_tolerance_s


def _snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum((reference - estimate).astype(np.float64) ** 2)))


def test_stems_offset_and_gain_explain_every_true_pair(tables, demo_corpus):
    """original - g * instrumental(t + offset) == vocals stem, as a perfect aligner at 8192 Hz sees it."""
    catalog, _, pairs = tables
    path = dict(zip(catalog.drop_duplicates("track_id").track_id, catalog.drop_duplicates("track_id").audio_path))
    checked = 0
    for row in pairs[pairs.features_reason == ""].itertuples():
        original = load_audio(demo_corpus / path[row.original_id])
        instrumental = load_audio(demo_corpus / path[row.instrumental_id])
        vocals, _ = sf.read(demo_corpus / "stems" / f"{row.song_id}.vocals.wav", dtype="float32")
        accompaniment, sr = sf.read(demo_corpus / "stems" / f"{row.song_id}.accompaniment.wav", dtype="float32")
        assert sr == 8192 and vocals.shape == accompaniment.shape == original.shape
        lossy = ".mp3" in (Path(path[row.original_id]).suffix, Path(path[row.instrumental_id]).suffix)
        if Path(path[row.original_id]).suffix != ".mp3":
            assert _snr_db(original, vocals + accompaniment) > 60  # the stems sum to the release
        lag = int(round(float(row.offset_s) * 8192))
        src = np.arange(original.size) + lag
        inside = (src >= 0) & (src < instrumental.size)
        aligned = float(row.gain) * instrumental[src[inside]]
        floor = 18.0 if lossy else 30.0  # MP3 coding noise of both files lands in the residual
        assert _snr_db(accompaniment[inside], aligned) > floor, row
        # the residual noise sits below the accompaniment, so a quiet voice (down to -12 dB) has less margin over it
        level_db = 10 * np.log10(np.sum(vocals[inside].astype(np.float64) ** 2) / np.sum(accompaniment[inside].astype(np.float64) ** 2))
        assert _snr_db(vocals[inside], original[inside] - aligned) > floor - 3 + min(0.0, level_db), row
        assert inside.mean() > 0.9
        checked += 1
    assert checked >= 5


def test_eval_set_sums_exactly_and_has_one_silent_vocal(demo_corpus, tables):
    _, truth, _ = tables
    eval_dir = demo_corpus / "eval"
    table = pd.read_csv(eval_dir / "eval.csv")
    assert list(table.columns) == ["song", "mixture", "vocals", "accompaniment", "duration_s"]
    assert not set(table.song) & set(truth.song_id)
    silent = 0
    for row in table.itertuples():
        mixture, sr = sf.read(eval_dir / row.mixture, dtype="float32")
        vocals, _ = sf.read(eval_dir / row.vocals, dtype="float32")
        accompaniment, _ = sf.read(eval_dir / row.accompaniment, dtype="float32")
        # the odd-numbered songs (E001, E003, ...) are 44.1 kHz stereo, the others 8192 Hz mono
        stereo = int(row.song[1:]) % 2 == 1
        assert (sr, mixture.ndim) == ((44100, 2) if stereo else (8192, 1)), row.song
        assert sf.info(eval_dir / row.mixture).subtype == "FLOAT"
        np.testing.assert_array_equal(mixture, vocals + accompaniment)
        assert abs(row.duration_s - mixture.shape[0] / sr) < 1e-3
        assert np.abs(accompaniment).max() > 0.05
        silent += not np.any(vocals)
    assert silent == 1


def _audio(corpus: Path) -> dict[str, np.ndarray | bytes]:
    """Every audio file's samples (the corrupt one's bytes), by relative path."""
    out: dict[str, np.ndarray | bytes] = {}
    for path in sorted(corpus.rglob("*")):
        if path.suffix in (".wav", ".flac", ".mp3"):
            try:
                out[str(path.relative_to(corpus))] = sf.read(path, dtype="float32")[0]
            except sf.LibsndfileError:
                out[str(path.relative_to(corpus))] = path.read_bytes()
    return out


@pytest.mark.slow
def test_same_seed_same_corpus_in_one_process_or_two(demo_corpus, tmp_path):
    """The session corpus (seed 7, rendered in 2 processes) again, in one process: byte-identical tables, same audio."""
    again = tmp_path / "again"
    generate_corpus(again, songs=TEST_CORPUS_SONGS, eval_songs=TEST_EVAL_SONGS, seed=7, song_seconds=TEST_SONG_SECONDS, workers=1)
    for name in ("catalog.csv", "truth_pairs.csv", "truth_tracks.csv", "eval/eval.csv"):
        assert (demo_corpus / name).read_bytes() == (again / name).read_bytes(), name
    first, second = _audio(demo_corpus), _audio(again)
    assert first.keys() == second.keys() and len(first) > 40
    for key, value in first.items():
        if isinstance(value, bytes):
            assert value == second[key], key
        else:
            np.testing.assert_array_equal(value, second[key], err_msg=key)


def test_other_seed_other_corpus():
    def catalog_rows(seed):
        rng = np.random.default_rng([seed, 0])
        plan = P.assign_ids(P.make_plan(rng, songs=P.MIN_SONGS, seed=seed, song_seconds=(6.0, 9.0)), rng)
        return [(t.track_id, t.artist, t.title) for t in plan.tracks]

    assert catalog_rows(1) == catalog_rows(1)
    assert catalog_rows(1) != catalog_rows(2)
    mixture_1 = render_eval_song((1, 4, 0), 4.0, False)[0]
    mixture_2 = render_eval_song((2, 4, 0), 4.0, False)[0]
    assert mixture_1.shape != mixture_2.shape or not np.allclose(mixture_1, mixture_2, atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(songs=P.MIN_SONGS - 1), "one per trap"),
        (dict(eval_songs=1), "silent vocal"),
        (dict(song_seconds=(9.0, 6.0)), "song_seconds"),
        (dict(workers=0), "workers"),
    ],
)
def test_bad_settings_raise_config_error(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        generate_corpus(tmp_path, **kwargs)
    assert not (tmp_path / "catalog.csv").exists()


def test_an_earlier_corpus_is_replaced_and_a_foreign_folder_refused(tmp_path):
    earlier = tmp_path / "earlier"
    (earlier / "audio").mkdir(parents=True)
    (earlier / "truth_tracks.csv").write_text("track_id\n")
    (earlier / "audio" / "T9999.flac").write_bytes(b"old")
    (earlier / "audio" / "notes.txt").write_text("mine")
    _prepare(earlier)
    assert not (earlier / "audio" / "T9999.flac").exists() and not (earlier / "truth_tracks.csv").exists()
    assert (earlier / "audio" / "notes.txt").read_text() == "mine"  # only the corpus's own names are removed
    foreign = tmp_path / "music"
    foreign.mkdir()
    (foreign / "song.wav").write_bytes(b"")
    with pytest.raises(ConfigError, match="holds no demo corpus"):
        generate_corpus(foreign, songs=P.MIN_SONGS, eval_songs=2)
    assert [p.name for p in foreign.iterdir()] == ["song.wav"]
