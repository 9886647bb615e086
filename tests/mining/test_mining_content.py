"""Content fingerprints and the mining pipeline on tiny generated audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soxr
from click.testing import CliRunner

from vocalmine.core.audio import write_audio
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.errors import NothingUsableError
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.fingerprint import (SAME_P95_DB, Fingerprint, canonical_fingerprints, content_distance,
                                          content_groups, content_stats, fingerprint_file, group_contents,
                                          same_content, summarize)
from vocalmine.mining.mine import mine
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, pair_id_for

SR = 22050


def song(seed: int, seconds: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """(mix, accompaniment) at SR: chords + noise bursts, plus a vibrato 'voice' in the mix."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    acc = np.zeros_like(t)
    for k in range(int(seconds * 2)):
        f = rng.choice([110.0, 130.8, 146.8, 164.8, 196.0, 220.0])
        seg = (t >= k * 0.5) & (t < (k + 1) * 0.5)
        for h in (1, 2, 3):
            acc[seg] += 0.1 / h * np.sin(2 * np.pi * f * h * t[seg])
    acc += 0.03 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 2 * t) > 0.9)
    voc = np.zeros_like(t)
    for k in range(int(seconds)):
        f = rng.uniform(220, 440)
        seg = (t >= k + 0.1) & (t < k + 0.8)
        for h in range(1, 6):
            voc[seg] += 0.06 / h * np.sin(2 * np.pi * f * h * t[seg] + 3 * np.sin(2 * np.pi * 5 * t[seg]))
    return (acc + voc).astype(np.float32), acc.astype(np.float32)


def test_fingerprint_robust_to_format_and_rate_but_not_content(tmp_path):
    mix, acc = song(1)
    other, _ = song(2)
    write_audio(tmp_path / "a.wav", mix, SR)
    write_audio(tmp_path / "a.flac", np.stack([mix, mix], axis=1), SR, subtype="PCM_16")  # stereo 16-bit
    write_audio(tmp_path / "a48.wav", soxr.resample(mix, SR, 48000), 48000)
    write_audio(tmp_path / "a.mp3", mix, SR)
    write_audio(tmp_path / "ai.wav", acc, SR)
    write_audio(tmp_path / "b.wav", other, SR)
    prints = {p.name: fingerprint_file(str(p), 90.0) for p in sorted(tmp_path.iterdir())}
    for name in ("a.flac", "a48.wav", "a.mp3"):
        assert content_distance(prints["a.wav"], prints[name]) < 0.5, name
    assert content_distance(prints["a.wav"], prints["ai.wav"]) > 3.0  # the instrumental of the same song
    for name in ("a.flac", "a48.wav", "a.mp3"):
        assert content_stats(prints["a.wav"], prints[name])[1] < SAME_P95_DB, name  # codec noise is spread thinly

    assert content_distance(prints["a.wav"], prints["b.wav"]) > 3.0
    canon = canonical_fingerprints(prints, threshold_db=1.0)
    assert canon["a.wav"] == canon["a.flac"] == canon["a48.wav"] == canon["a.mp3"]
    assert len({canon["a.wav"], canon["ai.wav"], canon["b.wav"]}) == 3


def build_corpus(root: Path) -> Path:
    """A tiny catalog with one good pair, a mislabelled instrumental, a re-release and a corrupt file."""
    audio = root / "corpus" / "audio"
    audio.mkdir(parents=True)
    m1, a1 = song(1)
    m2, _ = song(2)
    m3, a3 = song(3)
    write_audio(audio / "o1.wav", m1, SR)
    write_audio(audio / "i1.flac", a1, SR)
    write_audio(audio / "o1c.flac", m1, 44100 // 2)  # compilation re-release, other format
    write_audio(audio / "i1c.wav", soxr.resample(a1, SR, 44100), 44100)
    write_audio(audio / "o2.wav", m2, SR)
    write_audio(audio / "i2.flac", m2, SR)  # "instrumental" that is the original's audio
    write_audio(audio / "o3.wav", m3, SR)
    (audio / "i3.wav").write_bytes(b"RIFF\x00\x00garbage" * 50)
    rows = [
        ("T01", "Luther Vandross", "Stop To Love", "audio/o1.wav"),
        ("T02", "Luther Vandross", "Stop To Love (Instrumental)", "audio/i1.flac"),
        ("T03", "Angie Care", "Your Mind", "audio/o2.wav"),
        ("T04", "Angie Care", "Your Mind (Instrumental Version)", "audio/i2.flac"),
        ("T05", "Peter Arcade", "Italo Disco", "audio/o3.wav"),
        ("T06", "Peter Arcade", "Italo Disco (Instrumental)", "audio/i3.wav"),
        ("T07", "Luther Vandross", "Stop To Love", "audio/o1c.flac"),
        ("T08", "Luther Vandross", "Stop To Love (Instrumental)", "audio/i1c.wav"),
        ("T09", "Luther Vandross", "Til My Baby Comes Home", "audio/nope.wav"),
    ]
    # the optional columns that catalog_for_corpus maps are present (empty)
    text = "track_id,artist,title,duration,audio_path,album,isrc,release_date\n" + "".join(
        f'{i},{a},"{t}",4.0,{p},,,\n' for i, a, t, p in rows)
    (root / "corpus" / "catalog.csv").write_text(text, encoding="utf-8")
    yaml_file = root / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, root / "corpus", root / "work"), encoding="utf-8")
    return yaml_file


@pytest.mark.slow
def test_pipeline_content_rejects_and_cache(tmp_path, caplog):
    catalog = load_catalog(build_corpus(tmp_path))
    summary = mine(catalog=catalog, scheduler="sync")
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)
    assert pairs["pair_id"].tolist() == [pair_id_for("T01", "T02")]
    assert pairs["original_fingerprint"].iloc[0] != pairs["instrumental_fingerprint"].iloc[0]
    assert len(pairs["original_fingerprint"].iloc[0]) == 16
    got = {(s, r, t, p) for s, r, t, p in zip(rejects["stage"], rejects["reason"], rejects["track_id"], rejects["pair_id"])}
    assert ("content", R.SAME_CONTENT, "T04", pair_id_for("T03", "T04")) in got
    # an undecodable file is set aside before pairing (so that a rival could pair): a row reject, no pair id
    assert ("content", R.UNDECODABLE, "T06", None) in {(s, r, t, p if isinstance(p, str) else None) for s, r, t, p in got}
    assert ("content", R.DUPLICATE_RECORDING, "T08", pair_id_for("T07", "T08")) in got
    assert ("ingest", R.AUDIO_NOT_FOUND, "T09", None) in {(s, r, t, p if isinstance(p, str) else None) for s, r, t, p in got}
    assert summary.files_decoded == 8 and summary.files_cached == 0 and summary.pairs == 1
    assert "pairs written        1" in summary.format()
    # Second run: every fingerprint comes from the cache (keyed by path, size, mtime).
    again = mine(catalog=catalog, scheduler="sync")
    assert again.files_decoded == 0 and again.files_cached == 8
    pd.testing.assert_frame_equal(read_table(catalog.pairs, PAIRS_SCHEMA), pairs)
    # A touched file is decoded again.
    write_audio(catalog.tracks.audio_root / pairs["original_path"].iloc[0], song(1)[0], SR)  # stored relative to the root
    assert mine(catalog=catalog, scheduler="sync").files_decoded == 1
    assert len(pd.read_parquet(catalog.fingerprints)) == 8  # the stale entry of the touched file is gone


@pytest.mark.slow
def test_decoding_on_a_local_cluster_and_the_cli(tmp_path):
    from vocalmine.commands.context import Context
    from vocalmine.commands.mine import mine_command

    yaml_file = build_corpus(tmp_path)
    result = CliRunner().invoke(mine_command, ["--duration-tolerance", "2", "--workers", "1"], obj=Context(yaml_file, 0))
    assert result.exit_code == 0, result.output
    assert "pairs written        1" in result.output and "undecodable 1" in result.output
    assert "fingerprints         8 decoded" in result.output


def test_nothing_usable(tmp_path, monkeypatch):
    import vocalmine.mining.fingerprint as fingerprint

    # every file one content, and in one bucket of the content index: nothing survives dedupe
    monkeypatch.setattr(fingerprint, "SAME_P95_DB", float("inf"))
    monkeypatch.setattr(fingerprint, "content_signature", lambda fp: np.zeros(fingerprint.N_BANDS + 4))
    yaml_file = build_corpus(tmp_path)
    catalog = load_catalog(yaml_file)
    with pytest.raises(NothingUsableError, match=r"catalog\.csv: no \(original, instrumental\) pair remains"):
        mine(catalog=catalog, scheduler="sync", config=MiningConfig(fingerprint_seconds=1.0, same_content_db=100.0))


def test_cli_reports_nothing_usable_and_bad_settings_in_one_line(tmp_path):
    import click

    from vocalmine.cli import VocalmineGroup
    from vocalmine.commands.context import Context
    from vocalmine.commands.mine import mine_command

    yaml_file = build_corpus(tmp_path)
    csv = tmp_path / "corpus" / "catalog.csv"
    csv.write_text("\n".join(line for line in csv.read_text().splitlines() if "Instrumental" not in line) + "\n")

    @click.group(cls=VocalmineGroup)
    @click.pass_context
    def root(ctx):
        ctx.obj = Context(yaml_file, 0)

    root.add_command(mine_command)
    result = CliRunner().invoke(root, ["mine", "--scheduler", "sync"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no (original, instrumental) pair remains" in lines[0]
    result = CliRunner().invoke(root, ["mine", "--title-threshold", "120"])
    assert result.exit_code == 1 and "title_threshold must be in [0, 100], got 120" in result.output


def test_quiet_voice_is_not_the_same_content(tmp_path):
    """An instrumental whose original has a quiet voice is close on average, but not where the voice sings."""
    mix, acc = song(4, seconds=8.0)
    # -27 dB over the whole song (this sparse voice sings a fifth of the time): a mean below same_content_db
    voice = (mix - acc) * 10 ** (-27 / 20) / np.sqrt(np.mean((mix - acc) ** 2) / np.mean(acc ** 2))
    write_audio(tmp_path / "quiet.wav", acc + voice, SR)
    write_audio(tmp_path / "acc.flac", acc, SR)
    a, b = fingerprint_file(str(tmp_path / "quiet.wav"), 90.0), fingerprint_file(str(tmp_path / "acc.flac"), 90.0)
    mean, p95 = content_stats(a, b)
    assert mean < 1.0 and p95 >= SAME_P95_DB and not same_content(a, b, threshold_db=1.0), (mean, p95)


def _synthetic_print(levels: np.ndarray, duration_s: float) -> Fingerprint:
    cells = np.clip(np.round(levels / 0.5), 0, 160).astype(np.uint8)
    return Fingerprint(cells.tobytes(), cells.shape[0], duration_s, "")


def test_content_index_finds_every_copy_without_comparing_every_equal_duration_pair():
    """400 songs of one duration, 60 of them with a lossy-like copy: the index finds exactly the copies the
    exhaustive comparison finds, with a small share of its comparisons."""
    rng = np.random.default_rng(5)
    prints = {}
    for k in range(400):
        tilt = rng.uniform(-2.0, 0.5)  # dB per band: dark to bright songs
        shape = 50 + tilt * np.arange(16) + rng.normal(0, 4, 16)
        rhythm = 8 * np.sin(np.arange(24) / rng.uniform(1, 4))[:, None]
        levels = np.clip(shape[None, :] + rng.normal(0, 3, (24, 16)) + rhythm, 10, 80)
        prints[f"song-{k:03d}.wav"] = _synthetic_print(levels, 3.0)
        if k < 60:
            prints[f"copy-{k:03d}.mp3"] = _synthetic_print(levels + rng.normal(0, 0.4, levels.shape), 3.0)
    canonical, compared = content_groups(prints, threshold_db=1.0)
    # From summaries, envelopes are read back only for the files of the pairs compared, a chunk at a time.
    loads = []

    def load(names):
        loads.append(list(names))
        return {k: prints[k] for k in names}

    summaries = {k: summarize(fp) for k, fp in prints.items()}
    assert all(not hasattr(v, "features") for v in summaries.values())
    assert group_contents(summaries, load=load, threshold_db=1.0, chunk=7) == (canonical, compared)
    assert len(loads) > 1 and max(map(len, loads)) <= 14
    assert len({k for names in loads for k in names}) < len(prints) / 2
    exhaustive = len(prints) * (len(prints) - 1) // 2
    assert compared < 0.02 * exhaustive, (compared, exhaustive)
    copies = {k for k in prints if k.startswith("copy")}
    assert all(canonical[c] == canonical[c.replace("copy", "song").replace(".mp3", ".wav")] for c in copies)
    assert len(set(canonical.values())) == 400  # no two songs merged
