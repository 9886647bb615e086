"""Hostile audio files through every entry point that decodes audio.

Corrupt, truncated, zero-length, silent, 1-sample, 6-channel and 1-hour files,
a NaN sample, a directory or a named pipe where a file should be: each becomes
a reject with a reason, a clear AudioError, or a correct result, through
core.audio.load_audio, the mining fingerprint, the per-pair features group
(as `build` runs it) and model.inference.separate_files; never a traceback,
never a hang.
"""

from __future__ import annotations

import numpy as np
import pytest

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.core.errors import AudioError

# label -> expected (load_audio, fingerprint, pair features): the outcome's first words.
EXPECTED = {
    "corrupt (random bytes, .wav)": ("error AudioError", "error", "reject undecodable/undecodable"),
    "corrupt (ID3 header + garbage, .mp3)": ("error AudioError", "error", "reject undecodable/undecodable"),
    "truncated WAV (half the data)": ("ok 16382 samples", "ok", "reject too_short/too_short"),
    "truncated WAV (inside the header)": ("error AudioError", "error", "reject undecodable/undecodable"),
    "truncated FLAC (a third)": ("error AudioError", "error", "reject undecodable/undecodable"),
    "zero-length file": ("error AudioError", "error", "reject undecodable/undecodable"),
    "silent (5 s of zeros)": (f"ok {5 * SAMPLE_RATE} samples", "ok", "reject silent/silent"),
    "1 sample (8192 Hz)": ("ok 1 samples", "ok", "reject too_short/too_short"),
    "1 sample (44.1 kHz: 0 samples after resampling)": ("error AudioError", "error", "reject undecodable/undecodable"),
    "6-channel WAV (48 kHz)": (f"ok {4 * SAMPLE_RATE} samples", "ok", "reject too_different/too_different"),
    "float WAV with a NaN sample": ("error AudioError", "error", "reject undecodable/undecodable"),
    "a directory where a file should be": ("error AudioError", "error", "reject undecodable/undecodable"),
    "a named pipe (FIFO) where a file should be": ("error AudioError", "error", "reject undecodable/undecodable"),
    "missing file": ("error AudioError", "error", "reject undecodable/undecodable"),
}


@pytest.fixture(scope="module")
def bad_audio(rb, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_audio")
    return folder, rb.write_bad_audio(folder / "audio")


@pytest.fixture(scope="module")
def untrained_models(rb, tmp_path_factory):
    return rb.write_untrained_models(tmp_path_factory.mktemp("rb_models"))


def test_every_hostile_file_is_covered(bad_audio):
    assert set(bad_audio[1]) == set(EXPECTED)


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_decode_fingerprint_and_pair_features(rb, bad_audio, label, tmp_path):
    folder, files = bad_audio
    outcomes = rb.audio_outcomes(files[label], good=folder / "audio" / "good.wav", models_dir=None, work=tmp_path, limit_s=60)
    got = (outcomes["load_audio"], outcomes["fingerprint"], outcomes["pair features"])
    for want, have in zip(EXPECTED[label], got):
        assert have.startswith(want), f"{label}: expected {want!r}..., got {have!r}"


def test_six_channels_are_downmixed_to_their_mean(bad_audio):
    import soundfile as sf

    from vocalmine.core.audio import resample

    _, files = bad_audio
    data, sr = sf.read(files["6-channel WAV (48 kHz)"], dtype="float32", always_2d=True)
    expected = resample(data.mean(axis=1).astype(np.float32), sr, SAMPLE_RATE)
    np.testing.assert_allclose(load_audio(files["6-channel WAV (48 kHz)"]), expected, atol=1e-6)


@pytest.mark.parametrize("label, want", [
    ("silent (5 s of zeros)", f"ok {5 * SAMPLE_RATE} samples out"),
    ("1 sample (8192 Hz)", "ok 1 samples out"),
    ("1 sample (44.1 kHz: 0 samples after resampling)", "error AudioError"),
    ("6-channel WAV (48 kHz)", f"ok {4 * SAMPLE_RATE} samples out"),
    ("truncated FLAC (a third)", "error AudioError"),
    ("a directory where a file should be", "error AudioError"),
])
@pytest.mark.slow
def test_separate_files(rb, bad_audio, untrained_models, label, want, tmp_path):
    folder, files = bad_audio
    outcomes = rb.audio_outcomes(files[label], good=folder / "audio" / "good.wav", models_dir=untrained_models, work=tmp_path, limit_s=60)
    assert outcomes["separate_files"].startswith(want), outcomes["separate_files"]


def test_separate_files_refuses_a_fifo_without_hanging(rb, bad_audio, untrained_models, tmp_path):
    """Regression: separate_files read the header (sf.info) of a named pipe first and blocked forever."""
    from vocalmine.model.inference import separate_files

    _, files = bad_audio
    with rb.time_limit(3), pytest.raises(AudioError, match="not a file"):
        separate_files(paths=[files["a named pipe (FIFO) where a file should be"]], out_dir=tmp_path,
                       models_dir=untrained_models, device="cpu")


def test_one_sample_at_44k_is_an_audio_error(bad_audio):
    """Regression: the 'no samples' check ran before resampling, so this decoded to an empty array."""
    _, files = bad_audio
    with pytest.raises(AudioError, match="no samples"):
        load_audio(files["1 sample (44.1 kHz: 0 samples after resampling)"])


@pytest.mark.slow
def test_one_hour_file(rb, tmp_path):
    """A 1-hour 8 kHz file (sparse: silence + a 5 s tone) decodes whole, fingerprints and pairs without blowing up."""
    path = rb.write_one_hour_wav(tmp_path / "one_hour.wav")
    good = tmp_path / "good.wav"
    import soundfile as sf

    sf.write(good, rb.tone(8.0, sr=44100), 44100)
    y = load_audio(path)
    assert y.shape == (3600 * SAMPLE_RATE,)
    tone_at = int(30 * 60 * SAMPLE_RATE)
    assert np.abs(y[tone_at + 1000 : tone_at + 2000]).max() > 0.2 and np.abs(y[:tone_at - SAMPLE_RATE]).max() == 0
    outcomes = rb.audio_outcomes(path, good=good, models_dir=None, work=tmp_path / "work", limit_s=120)
    assert outcomes["fingerprint"] == "ok 240 frames"  # the first 30 s only
    assert outcomes["pair features"].startswith("reject too_different"), outcomes
