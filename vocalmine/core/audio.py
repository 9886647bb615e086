"""Audio decoding and writing: soundfile + soxr, downmixed to mono float32.

soundfile reads WAV, FLAC, OGG and MP3 (libsndfile >= 1.1) without system
packages; soxr resamples. This is about 3x faster than ``librosa.load``
(docs/architecture.md, "Measured pitfalls").
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vocalmine.core.atomic import atomic_path, disk_full_or
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.core.errors import AudioError
SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's command number (soundfile does not name it)


def downmix(data: np.ndarray) -> np.ndarray:
    """Average the channels of a (n_samples, n_channels) array into (n_samples,)."""
    if data.ndim == 1:
        return data
    if data.shape[1] == 1:
        return data[:, 0]
    if data.shape[1] == 2:
        # 9x faster than data.mean(axis=1) on (n, 2) arrays
        return 0.5 * (data[:, 0] + data[:, 1])
    return data.mean(axis=1, dtype=np.float32)


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono float32 signal with soxr (HQ); a no-op when rates agree."""
    if sr_in == sr_out:
        return y
    return soxr.resample(y, sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def resample_channels(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample (channels, n) or (n,) float32 with soxr (HQ), all channels in one call; a no-op when rates agree."""
    if sr_in == sr_out:
        return np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return resample(np.ascontiguousarray(y, dtype=np.float32), sr_in, sr_out)
    out = soxr.resample(np.ascontiguousarray(y.T, dtype=np.float32), sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def to_channels(data: np.ndarray, channels: int) -> np.ndarray:
    """(C, n) decoded audio as (channels, n): 1 is the downmix; 2 keeps stereo, doubles mono, and takes
    the first two channels (front left and right in the usual layouts) of a multichannel file."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        data = data[None]
    if channels == 1:
        return downmix(data.T)[None] if data.shape[0] > 1 else data
    if data.shape[0] == 1:
        return np.repeat(data, channels, axis=0)
    return data[:channels]


def _regular_file(path: Path) -> None:
    """Raise AudioError unless ``path`` is a regular file (a FIFO would block a reader forever)."""
    try:
        exists, regular = path.exists(), path.is_file()
    except OSError as exc:  # e.g. ENAMETOOLONG, which Path.is_file does not swallow
        raise AudioError(f"{path}: not a readable file ({exc.strerror or exc})") from exc
    if not exists:
        raise AudioError(f"{path}: does not exist")
    if not regular:
        raise AudioError(f"{path}: not a file")


def _decode_failure(path: Path, exc: Exception) -> str:
    """Why libsndfile refused a file that exists, without its misleading "File does not exist" wording.

    libsndfile says "File does not exist or is not a regular file" for some undecodable files (an
    MP3 of random bytes); the caller has checked that the file exists, so that is a decoding failure.
    """
    text = str(exc).replace(f"Error opening {str(path)!r}: ", "").strip()
    if "does not exist" in text or "not a regular file" in text or not text:
        return "not audio that libsndfile can read (WAV, FLAC, OGG, MP3), or corrupt"
    return text


# libsndfile turns 16- and 24-bit PCM into floats by an exact power-of-two scaling (a 24-bit sample is read
# left-justified in an int32). On uncompressed files its integer read is a copy, so reading the integers and
# scaling them here gives the very same floats in less than half the time of its float read.
_INTEGER_READS = {"PCM_16": ("int16", 2.0**-15), "PCM_24": ("int32", 2.0**-31)}
_UNCOMPRESSED = {"WAV", "WAVEX", "AIFF", "W64", "RF64"}
DOWNMIX_BLOCK = 1 << 16  # frames per block of read_mono's stereo downmix


def _decode(path: str | os.PathLike) -> tuple[np.ndarray, float | None, int]:
    """(frames (n, channels) as libsndfile reads them, the scale that turns integer frames into floats or None
    when they are floats already, rate); raises AudioError as :func:`read_audio` documents."""
    path = Path(path)
    _regular_file(path)
    try:
        with sf.SoundFile(path) as file:
            integer = _INTEGER_READS.get(file.subtype) if file.format in _UNCOMPRESSED else None
            frames = file.read(dtype=integer[0] if integer else "float32", always_2d=True)
            rate = int(file.samplerate)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({_decode_failure(path, exc)})") from exc
    if frames.shape[0] == 0:
        raise AudioError(f"{path}: contains no samples")
    if not integer and not np.all(np.isfinite(frames)):
        raise AudioError(f"{path}: contains NaN or infinite samples")
    return frames, (integer[1] if integer else None), rate


def read_audio(path: str | os.PathLike, *, contiguous: bool = True) -> tuple[np.ndarray, int]:
    """Decode ``path`` keeping its rate and channels.

    Args:
        path: the file.
        contiguous: False may return the (channels, n) transpose of the decoded (n, channels) frames without
            copying them (a multichannel song's copy costs as much as a third of its decoding); downmix,
            resample_channels and to_channels read it as they read a contiguous one.

    Returns:
        (float32 array (channels, n_samples), sample rate in Hz).

    Raises:
        AudioError: missing ("does not exist"), not a regular file, undecodable
            ("cannot decode"), empty, or holding NaN/inf samples.
    """
    frames, scale, rate = _decode(path)
    if scale is not None:  # integers to contiguous (channels, n) floats in one pass
        floats = np.empty(frames.shape[::-1], dtype=np.float32)
        np.multiply(frames.T, np.float32(scale), out=floats)
        return floats, rate
    return (np.ascontiguousarray(frames.T) if contiguous else frames.T), rate


def read_mono(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode ``path`` to its mono downmix at its own rate, without the per-channel floats of :func:`read_audio`
    (the same values as its downmix, at half the cost on 16-bit stereo).

    Returns:
        (float32 array (n_samples,), sample rate in Hz). Raises AudioError as :func:`read_audio` does.
    """
    frames, scale, rate = _decode(path)
    if scale is None:
        return np.ascontiguousarray(downmix(frames), dtype=np.float32), rate
    if frames.shape[1] > 2:
        return downmix(np.multiply(frames, np.float32(scale), dtype=np.float32)), rate
    mono = np.empty(frames.shape[0], dtype=np.float32)
    if frames.shape[1] == 1:
        np.multiply(frames[:, 0], np.float32(scale), out=mono)
        return mono, rate
    # (l + r)·scale/2 rounds as 0.5·(l·scale + r·scale) does: both scalings are powers of two. Block by block, so
    # the floats of a block stay in cache: half the time of whole-array passes on a song
    block = np.empty((min(len(mono), DOWNMIX_BLOCK), 2), dtype=np.float32)
    half_scale = np.float32(0.5 * scale)
    for a in range(0, len(mono), DOWNMIX_BLOCK):
        b = min(a + DOWNMIX_BLOCK, len(mono))
        part, out = block[: b - a], mono[a:b]
        np.copyto(part, frames[a:b], casting="unsafe")  # integers of 24 bits or fewer: exact in float32
        np.add(part[:, 0], part[:, 1], out=out)
        out *= half_scale
    return mono, rate


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode ``path``, downmix to mono and resample to ``sr``.

    Returns:
        float32 array of shape (n_samples,) at ``sr`` Hz.

    Raises:
        AudioError: when the file is missing, not a file, undecodable or empty.
    """
    mono, sr_in = read_mono(path)
    return mono_at(mono[None], sr_in, sr, source=path)


def mono_at(data: np.ndarray, sr_in: int, sr: int, *, source: str | os.PathLike = "audio") -> np.ndarray:
    """Decoded audio (channels, n) at ``sr_in`` as its mono downmix at ``sr``: float32 (n_samples,).

    Raises:
        AudioError: when nothing is left at ``sr`` (naming ``source``).
    """
    y = resample(np.ascontiguousarray(downmix(data.T), dtype=np.float32), sr_in, sr)
    if y.shape[0] == 0:
        raise AudioError(f"{source}: contains no samples at {sr} Hz ({data.shape[1]} at {sr_in} Hz)")
    return y


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header information (samplerate, channels, frames, format) without decoding."""
    path = Path(path)
    _regular_file(path)
    try:
        return sf.info(os.fspath(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: cannot decode audio header ({_decode_failure(path, exc)})") from exc


def to_pcm16(y: np.ndarray) -> np.ndarray:
    """Float samples as int16, scaled as libsndfile does (x 32768, clipped to [-32768, 32767]), rounded.

    Done here because libsndfile's own float-to-PCM_16 conversion of an
    interleaved float32 array is about 4x slower for a 3-minute stereo file.
    """
    out = np.multiply(np.asarray(y, dtype=np.float32), 32768.0, out=np.empty(np.shape(y), dtype=np.float32))  # C order
    np.clip(out, -32768.0, 32767.0, out=out)
    return np.rint(out, out=out).astype(np.int16)


TORCH_CAST_MIN = 1 << 20  # samples from which to_float16 goes through torch (importing it costs a second once)


def to_float16(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float32 samples as float16 (the shards' dtype), into ``out`` when given.

    A song's worth goes through torch, whose conversion is vectorised: numpy's casts one value at a time,
    30x slower, with the same round-to-nearest-even result. Short signals stay in numpy, so that a worker
    that only meets them never imports torch.
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    out = np.empty(y.shape, dtype=np.float16) if out is None else out
    if y.size < TORCH_CAST_MIN:
        np.copyto(out, y, casting="same_kind")
        return out
    import torch  # a dependency anyway; imported here so that what does not write shards never loads it

    torch.from_numpy(out).copy_(torch.from_numpy(y))
    return out


def write_audio(path: str | os.PathLike, y: np.ndarray, sr: int = SAMPLE_RATE, subtype: str | None = None) -> Path:
    """Write ``y`` (n_samples,) or (n_samples, n_channels) atomically.

    The format follows the suffix (.wav, .flac, .mp3, .ogg). Float input is
    clipped to [-1, 1] for integer and compressed formats; int16 input (see
    :func:`to_pcm16`) is written as it is.
    """
    path = Path(path)
    if np.asarray(y).dtype != np.int16:
        y = np.asarray(y, dtype=np.float32)
        if path.suffix.lower() != ".wav" or (subtype and not subtype.startswith("FLOAT")):
            y = np.clip(y, -1.0, 1.0)
    channels = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    with atomic_path(path) as tmp:
        try:
            with sf.SoundFile(tmp, "w", sr, channels, subtype, format=path.suffix.lstrip(".").upper()) as fh:
                _without_peak_chunk(fh)
                fh.write(y)
        except sf.LibsndfileError as exc:  # libsndfile says "System error." when the disk fills
            raise disk_full_or(exc, tmp) from exc
    return path


def _without_peak_chunk(fh: sf.SoundFile) -> None:
    """Leave out the PEAK chunk libsndfile adds to float files: it records the time of writing, so without it
    the same audio always gives the same bytes (a resumed export or separation equals an uninterrupted one)."""
    snd, ffi, handle = getattr(sf, "_snd", None), getattr(sf, "_ffi", None), getattr(fh, "_file", None)
    if snd is not None and ffi is not None and handle is not None:  # soundfile's internals: skip if they change
        snd.sf_command(handle, SFC_SET_ADD_PEAK_CHUNK, ffi.NULL, 0)
