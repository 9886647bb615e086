"""Full-band output at the input's own rate: the model's masks on each channel's native STFT.

The model sees its signal spec's input (:mod:`vocalmine.core.spec`; the paper's:
mono, 8192 Hz, window 1024, hop 768, bins of 8 Hz up to 4088 Hz, frames every
93.75 ms). At the input's rate ``sr`` the masks are applied through an STFT
with the same hop in seconds and a window of at least two hops
(:func:`native_stft_params`); each native (bin, frame) takes the model mask
interpolated at its frequency and time. Above the model's top bin the mask is
extended (:data:`EXTENSIONS`). The masked native STFT of every channel, with
that channel's phase, is inverted: the output keeps the input's rate and
channels. A mono model's mask serves every channel (or their mean, see
``channels``); a stereo model's masks are one per channel, each applied to its own.

Before that, the two models' masks are turned into ratio masks, as Spleeter
does: m_s^p / (m_v^p + m_i^p), so that the estimates sum to the mixture; then
only the vocals are inverted and the instrumental is the mixture minus them.
Measured on the demo's 44.1 kHz stereo evaluation songs (bench/bench_fullband.py),
choices made on the seed-0 songs and checked on seed 1:
- ratio masks with p = 1 beat each model's own mask and p = 2 in SDR of both sources;
- windows of two hops beat the model's window scaled to the rate (25% overlap) by
  0.4-0.8 dB of SDR for both sources, nearly all of it as fewer artefacts;
- the vocal mask on the channels' mean (a centred lead vocal) beat it on each
  channel, since the mean cancels side content; "each" is for vocals panned aside;
- above 4 kHz the vocal mask is the square of the mean of the model's mask per
  frame (Spleeter's "average", shrunk where the model is unsure), weighted per bin
  by the channels' similarity to the power 8. The vocals' SNR above 5 kHz goes
  from 0 (zeros) to 1.2 / 2.3 dB and the instrumental's from 11.8 / 6.2 to
  13.0 / 8.5 dB. The plain mean gives the vocals 1.1 / 3.3 dB there but costs
  0.15 / 0.3 dB more of their full-band SDR: above 4 kHz the guess is less
  clean than the model's band, so a shy guess pays;
- below 4 kHz the model's vocal mask is weighted by the similarity squared: a bin
  whose channels differ in level holds panned accompaniment that the mono model
  cannot see. +0.9 / +0.3 dB vocal SDR and +0.4 / +0.1 dB instrumental; with a
  wide vocal (a decorrelated stereo reverb 8 dB under it) still +0.4 dB vocal SDR
  and +0.04 dB instrumental, where the power 4 would cost the instrumental 0.14 dB.
"""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, SignalSpec
from vocalmine.model.mask_options import EXTENSIONS, SYNTHESES, MaskOptions  # noqa: F401 (MaskOptions: re-exported)
from vocalmine.core.stft import hann, windowed_frames
from vocalmine.model.device import usable_cores

TOP_BAND_BINS = 64  # bins of the model's top band that "top-mean" averages per frame (512 Hz at the paper's spec)


def combine_masks(masks: np.ndarray, options: MaskOptions) -> np.ndarray:
    """Model masks (2, bins, frames) of (vocals, instrumental) -> the masks applied.

    "own" returns them unchanged; "ratio" returns m_s^p / (m_v^p + m_i^p) (equal
    shares where both are 0), which sum to 1 in every bin.
    """
    if options.mode == "own" or masks.shape[0] != 2:
        return masks
    powered = masks.astype(np.float32) ** np.float32(options.power) if options.power != 1 else masks.astype(np.float32)
    total = powered[0] + powered[1]
    vocals = np.where(total > 0, powered[0] / np.maximum(total, 1e-12), 0.5).astype(np.float32)
    return np.stack([vocals, 1.0 - vocals])


def native_stft_params(sample_rate: int, synthesis: str = "overlap", spec: SignalSpec = PAPER) -> tuple[int, int]:
    """(n_fft, hop) of the STFT that applies the masks of a model of ``spec`` at ``sample_rate``.

    The hop is the model's in seconds (93.75 ms at the paper's spec: 768 samples at 8192 Hz),
    so native frames fall on the model's frames and the mask needs no interpolation in time.
    The window is the model's own scaled to the rate, or two hops (50% overlap) where that
    is longer, rounded up to an even length with only the factors 2, 3 and 5 (8640 at
    44.1 kHz for the paper's spec; the 16 kHz and full-band presets' windows already span
    four hops, and are kept): the paper's own 25%-overlap window scaled
    to the rate (5512) gave 0.4-0.8 dB less SDR to both sources, nearly all of it as
    artefacts, on the demo's 44.1 kHz stereo songs (bench/bench_fullband.py). The
    masks are interpolated at each native bin's frequency, so the bins may be finer
    than the model's 8 Hz. At 8192 Hz the same rule gives 1536 / 768, which lifted the
    vocal NSDR of the paper's mono output by 0.6-0.8 dB on the MIR-1K dev clips.

    ``synthesis="paper"`` gives the model's own window scaled to the rate instead
    (1024 / 768 at 8192 Hz, 5512 / 4134 at 44.1 kHz for the paper's spec): the paper's resynthesis.
    """
    import scipy.fft

    if synthesis not in SYNTHESES:
        raise ConfigError(f"synthesis must be one of {SYNTHESES}, got {synthesis!r}")
    ratio = sample_rate / spec.sample_rate
    hop = max(1, round(spec.hop * ratio))
    half_window = max(1, round(spec.n_fft / 2 * ratio))
    if synthesis == "paper":
        return 2 * half_window, hop
    return 2 * scipy.fft.next_fast_len(max(hop, half_window), real=True), hop


def _interp_index(position: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower index, upper index, weight of upper) for linear interpolation at ``position`` in [0, size - 1]."""
    position = np.clip(position, 0.0, size - 1)
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, size - 1)
    return lo, hi, (position - lo).astype(np.float32)


def extension_values(masks: np.ndarray, extension: str) -> np.ndarray:
    """The mask above the model's band, per source and frame: (S, bins, frames) -> (S, frames)."""
    if extension == "top-mean":
        return masks[:, -TOP_BAND_BINS:].mean(axis=1)
    if extension == "top":
        return masks[:, -1]
    if extension == "mean":  # Spleeter's _extend_mask "average"
        return masks.mean(axis=1)
    if extension == "mean-squared":  # the same, shrunk where the model is unsure (0.5 -> 0.25, 0.9 -> 0.81)
        return masks.mean(axis=1) ** 2
    return np.zeros((masks.shape[0], masks.shape[2]), dtype=masks.dtype)


def model_band_bins(sample_rate: int, synthesis: str = "overlap", spec: SignalSpec = PAPER) -> int:
    """Native bins at or below the model's top bin (``spec.top_hz``); the ones above get the extension."""
    n_fft, _ = native_stft_params(sample_rate, synthesis, spec)
    freqs = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    return int(np.searchsorted(freqs, spec.top_hz, side="right"))


def native_masks(masks: np.ndarray, *, sample_rate: int, n_frames_native: int, extension: str,
                 first_frame: int = 0, synthesis: str = "overlap", spec: SignalSpec = PAPER) -> np.ndarray:
    """Model masks (S, [C,] bins, T) -> masks (S, [C,] n_fft // 2 + 1, n_frames_native) for native STFT
    frames ``first_frame`` .. ``first_frame + n_frames_native - 1``.

    Frame j of the native STFT is centred at j * hop / sample_rate seconds, model
    frame k at k * spec.hop / spec.sample_rate s: the mask is interpolated linearly in
    time there, and in frequency at each native bin's frequency up to the model's top bin.
    """
    n_fft, hop = native_stft_params(sample_rate, synthesis, spec)
    lead = masks.shape[:-2]
    bins, frames = masks.shape[-2:]
    masks = masks.reshape((-1, bins, frames))  # sources (and channels) as one axis
    s = masks.shape[0]
    positions = np.arange(first_frame,
                          first_frame + n_frames_native) * (hop / sample_rate) * (spec.sample_rate / spec.hop)
    lo, hi, w = _interp_index(positions, frames)
    timed = masks[:, :, lo] * (1.0 - w) + masks[:, :, hi] * w  # (S, bins, Tn)
    freqs = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    inside = model_band_bins(sample_rate, synthesis, spec)  # native bins up to the top model bin
    # built frames-first, (S, Tn, bins), the layout apply_native multiplies with its spectra
    out = np.empty((s, n_frames_native, n_fft // 2 + 1), dtype=np.float32)
    flo, fhi, fw = _interp_index(freqs[:inside] / spec.bin_hz, bins)
    rows = np.swapaxes(timed, 1, 2)  # (S, Tn, bins): small
    out[:, :, :inside] = rows[:, :, flo] * (1.0 - fw) + rows[:, :, fhi] * fw
    if inside < out.shape[2]:
        out[:, :, inside:] = extension_values(timed, extension)[:, :, None]
    return np.swapaxes(out, 1, 2).reshape(lead + (n_fft // 2 + 1, n_frames_native))


def overlap_add(spec: np.ndarray, length: int, *, n_fft: int, hop: int) -> np.ndarray:
    """Inverse of ``vocalmine.core.stft.stft`` (same framing and normalisation as its ``istft``).

    About twice as fast as librosa's istft on long native-rate spectrograms: the
    frames are summed in place, one slice per frame, and the window-square sum is
    computed once.

    Args:
        spec: complex (..., n_fft // 2 + 1, n_frames).
        length: samples of the signal.

    Returns:
        float32 (..., length).
    """
    import scipy.fft

    frames_n = spec.shape[-1]
    window = np.asarray(hann(n_fft))
    frames = scipy.fft.irfft(np.swapaxes(spec, -1, -2), n=n_fft, axis=-1, workers=-1).astype(np.float32, copy=False)
    frames *= window  # (..., n_frames, n_fft)
    total = n_fft + hop * (frames_n - 1)
    out = np.zeros(spec.shape[:-2] + (total,), dtype=np.float32)
    wss = np.zeros(total, dtype=np.float32)
    w2 = window * window
    for t in range(frames_n):
        out[..., t * hop : t * hop + n_fft] += frames[..., t, :]
        wss[t * hop : t * hop + n_fft] += w2
    start = n_fft // 2  # the stft pads n_fft // 2 in front
    seg = out[..., start : start + length]
    if seg.shape[-1] < length:
        seg = np.concatenate([seg, np.zeros(seg.shape[:-1] + (length - seg.shape[-1],), dtype=np.float32)], axis=-1)
    norm = wss[start : start + length]
    return seg / np.where(norm > 1e-8, norm, 1.0)


def channel_similarity(left: np.ndarray, right: np.ndarray, power: float) -> np.ndarray:
    """(2|L·R*| / (|L|² + |R|²))^power per bin, float32: 1 where both channels carry the same, 0 where one is silent.

    Written as (4·|L|²·|R|² / (|L|² + |R|²)²)^(power / 2): powers only, no complex product or square root,
    computed in place (this runs on every bin of a song's native spectra).
    """
    pl, pr = _power(left), _power(right)
    total = pl + pr
    np.multiply(total, total, out=total)
    np.maximum(total, np.float32(1e-30), out=total)
    np.multiply(pl, pr, out=pl)
    pl *= np.float32(4)
    squared = np.divide(pl, total, out=pl)
    half = power / 2
    if half == int(half) and 1 <= half <= 8:  # the defaults (2, 8): products, ~5x faster than a float power
        out = squared.copy() if half > 1 else squared
        for _ in range(int(half) - 1):
            out *= squared
        return out
    return np.power(squared, np.float32(half), out=squared)


def _power(z: np.ndarray) -> np.ndarray:
    """|z|² of complex64 z as float32 (re² + im² on the float view: no temporaries of the complex size)."""
    z = np.asarray(z, dtype=np.complex64)
    if z.ndim == 0 or z.strides[-1] != z.itemsize:  # the float view needs the last axis contiguous
        z = np.ascontiguousarray(z)
    parts = z.view(np.float32)
    re, im = parts[..., 0::2], parts[..., 1::2]
    out = re * re
    out += im * im
    return out


# native frames per block of apply_native (9 s): memory stays flat in the track's length; 64-128 ran fastest
NATIVE_BLOCK_FRAMES = 96
MAX_NATIVE_THREADS = 4  # threads computing blocks of apply_native


def apply_native(mixture: np.ndarray, masks: np.ndarray, *, sample_rate: int, extension: str,
                 complementary: bool = False, mid: bool = False, centre_power: float = 0.0,
                 band_centre_power: float = 0.0, synthesis: str = "overlap",
                 block_frames: int = NATIVE_BLOCK_FRAMES, spec: SignalSpec = PAPER) -> np.ndarray:
    """Apply model masks to every channel of ``mixture`` at its own rate.

    Equal to ``istft(native_masks(...) * stft(mixture))`` with the core STFT at
    :func:`native_stft_params`, computed in blocks of ``block_frames`` frames that
    overlap-add into the output, so that only the output is held whole.

    Args:
        mixture: float32 (channels, n_samples) at ``sample_rate``.
        masks: float32 (S, bins, T) masks of a mono model on its STFT frames of the same audio
            (``spec``), or (S, channels, bins, T) of a stereo model: one per channel, each applied
            to its own channel (``mid`` and the centre powers then do not apply).
        complementary: the masks sum to 1 (ratio masks): only the first source is
            inverted, and the second is the mixture minus the first (the STFT is linear).
        mid: with ``complementary``, the first source (vocals) is masked from the mean of
            the channels and placed on every channel; the rest of each channel, its side
            content included, goes to the second source.
        centre_power: with ``mid`` on a stereo input, the extended mask above the model's
            band is weighted by each bin's inter-channel similarity 2|L·R*| / (|L|² + |R|²)
            to this power (1 for a centred source, less for one panned aside: a hi-hat
            off centre stays in the instrumental); 0 = no weighting.
        band_centre_power: the same for the model's band below it.
        synthesis: the STFT's window (:func:`native_stft_params`).
        spec: the model's signal spec.

    Returns:
        float32 (S, channels, n_samples): each channel's STFT times the mask, its own phase, iSTFT.
    """
    import scipy.fft

    mixture = np.asarray(mixture, dtype=np.float32)
    per_channel = masks.ndim == 4
    if per_channel and masks.shape[1] != mixture.shape[0]:
        raise ConfigError(f"{masks.shape[1]} channel masks for a mixture of {mixture.shape[0]} channels")
    centred = mid and complementary and masks.shape[0] == 2 and mixture.shape[0] > 1 and not per_channel
    weighted = centred and (centre_power > 0 or band_centre_power > 0) and mixture.shape[0] == 2
    used = masks[:1] if complementary and masks.shape[0] == 2 else masks
    # the centre's STFT is the mean of the channels' STFTs: average the samples first unless both are needed
    source = mixture if weighted or not centred else mixture.mean(axis=0, keepdims=True, dtype=np.float32)
    n_fft, hop = native_stft_params(sample_rate, synthesis, spec)
    top = model_band_bins(sample_rate, synthesis, spec)
    n = source.shape[-1]
    total = 1 + (n + hop) // hop  # frames of the core stft
    window = np.asarray(hann(n_fft))
    # overlap-add into rows of one hop, starting n_fft // 2 samples before the signal (the stft's padding):
    # frame t covers rows t .. t + ceil(n_fft / hop) - 1, so each part of a frame is one vectorised add
    parts = -(-n_fft // hop)
    rows = total + parts
    acc = np.zeros((used.shape[0], 1 if centred else source.shape[0], rows, hop), dtype=np.float32)
    wss = np.zeros((rows, hop), dtype=np.float32)
    window_sq = window * window

    def block(f0: int) -> tuple[int, np.ndarray]:
        """Masked, inverted and windowed frames f0 .. f0 + block_frames - 1: (S, C, F, n_fft) float32."""
        f1 = min(f0 + block_frames, total)
        spectra = scipy.fft.rfft(windowed_frames(source, f0, f1, n_fft=n_fft, hop=hop), axis=-1)  # (C, F, bins)
        mask = np.swapaxes(native_masks(used, sample_rate=sample_rate, n_frames_native=f1 - f0, extension=extension,
                                        first_frame=f0, synthesis=synthesis, spec=spec), -1, -2)  # (S, [C,] F, bins)
        if weighted:
            for band, power in ((slice(top, None), centre_power), (slice(0, top), band_centre_power)):
                if power > 0:
                    mask[..., band] *= channel_similarity(spectra[0, :, band], spectra[1, :, band], power)
            spectra = np.add(spectra[0], spectra[1], out=spectra[0])[None]  # 2 x the centre: the 1/2 goes into the mask
            mask *= np.float32(0.5)
        frames = scipy.fft.irfft((mask if per_channel else mask[:, None]) * spectra[None], n=n_fft,
                                 axis=-1).astype(np.float32, copy=False)
        frames *= window
        return f0, frames

    # blocks are independent until the overlap-add: computed on threads (numpy and pocketfft release the GIL),
    # added in order here
    starts = range(0, total, block_frames)
    threads = min(usable_cores(), len(starts), MAX_NATIVE_THREADS)
    for f0, frames in _ordered(block, starts, threads):
        f1 = f0 + frames.shape[2]
        for j in range(parts):
            lo, hi = j * hop, min((j + 1) * hop, n_fft)
            acc[:, :, f0 + j : f1 + j, : hi - lo] += frames[..., lo:hi]
            wss[f0 + j : f1 + j, : hi - lo] += window_sq[lo:hi]
    front = n_fft // 2
    out = acc.reshape(acc.shape[:2] + (-1,))[..., front : front + n]
    norm = wss.reshape(-1)[front : front + n]
    out /= np.where(norm > 1e-8, norm, np.float32(1.0))
    if not centred and used.shape[0] == masks.shape[0]:
        return out
    # the centre's estimate on every channel, and the rest of each channel: written in place, no copies of copies
    result = np.empty((masks.shape[0],) + mixture.shape, dtype=np.float32)
    result[: used.shape[0]] = out
    if used.shape[0] < masks.shape[0]:
        np.subtract(mixture, result[0], out=result[1])
    return result


def _ordered(fn, items, threads: int):
    """fn(item) for each item, in order, computed on ``threads`` threads with at most ``threads + 1`` results
    pending."""
    if threads <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending = collections.deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
