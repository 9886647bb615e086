"""Figures of the pair quality report, rendered with matplotlib (Agg) into PNG data: URIs.

PNGs are quantised to a 256-colour palette before embedding, which keeps a
spectrogram figure at roughly a third of its true-colour size.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402

from vocalmine.core.spec import PAPER, SignalSpec  # noqa: E402

DPI = 80  # dots per inch of every embedded figure
DB_FLOOR = -80.0  # bottom of the spectrogram colour scale, dB relative to the pair's max |X|
TOP_ARTISTS = 25  # artists shown in the pairs-per-artist chart
KEPT_COLOUR, OTHER_COLOUR = "#2b7bba", "#d95f02"
GATE_COLOUR = "#b2182b"  # threshold lines and the side of a rule that excludes


def figure_data_uri(fig: Figure, *, dpi: int = DPI) -> str:
    """Render ``fig`` to a palette PNG data: URI and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def hist_range(values: np.ndarray) -> tuple[float, float, int, str]:
    """(lo, hi, number of bins, note) of a histogram's x axis that reads well whatever the spread of ``values``.

    A constant column gets a bin centred on its value and a note saying so; a nearly constant one
    (spread below 0.1 % of its magnitude, where matplotlib would fall back to offset tick labels)
    a range widened around its centre and a note with its min and max.
    """
    lo, hi = float(values.min()), float(values.max())
    magnitude = max(abs(lo), abs(hi))
    span = hi - lo
    if span <= 1e-9 * max(magnitude, 1e-12):
        half = max(0.05 * magnitude, 0.05)
        return lo - half, hi + half, 11, f"all {len(values)}: {lo:.4g}"  # an odd count: the value in the middle bin
    if span < 1e-3 * magnitude:
        centre, half = (lo + hi) / 2, 5e-4 * magnitude
        return centre - half, centre + half, 31, f"all {len(values)} within {lo:.6g}…{hi:.6g}"
    return lo, hi, 31, ""


def _hist(ax, kept: pd.Series, other: pd.Series, *, title: str, xlabel: str, thresholds: tuple[float, ...] = (),
          zoom: bool = False) -> None:
    """A stacked kept / not-kept histogram, with a dashed line and a shaded excluded side per threshold.

    ``zoom`` shows the threshold's neighbourhood (twice its distance to the largest value below it), piling
    values further down into the first bin: one far-off pair would otherwise squeeze every other into a bin.
    """
    kept, other = kept.dropna().to_numpy(float), other.dropna().to_numpy(float)
    both = np.concatenate([kept, other])
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(labelsize=7)
    if not len(both):
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="grey")
        return
    lo, hi, n_bins, note = hist_range(both)
    if thresholds:  # the axis reaches each threshold, so its line is drawn even when every pair lies on one side
        pad = 0.04 * max(hi - lo, 1e-3)
        lo, hi = min(lo, min(thresholds) - pad), max(hi, max(thresholds) + pad)
        floor = min(thresholds) - 2 * (hi - min(thresholds))
        if zoom and lo < floor:
            far = int((both < floor).sum())
            kept, other = np.maximum(kept, floor), np.maximum(other, floor)
            lo, note = floor, f"{far} below {floor:.2f}: in the first bin"
    ax.hist([kept, other], bins=np.linspace(lo, hi, n_bins + 1), stacked=True, color=[KEPT_COLOUR, OTHER_COLOUR],
            label=["kept", "not kept"])
    ax.set_xlim(lo, hi)
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")  # never "1e-3 + 9.9e1" offset labels
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of pairs
    box = {"facecolor": "white", "edgecolor": "#ccc", "boxstyle": "round,pad=0.2"}
    if note:
        ax.text(0.02, 0.96, note, ha="left", va="top", transform=ax.transAxes, fontsize=8, color="#333", bbox=box)
    for value in thresholds:
        ax.axvspan(lo, value, color=GATE_COLOUR, alpha=0.08, lw=0)  # the excluded side of the rule
        ax.axvline(value, color=GATE_COLOUR, ls="--", lw=1.2)
        below = int((both < value).sum())
        left = (value - lo) / (hi - lo) > 0.4  # the label inside the axes, on the side with room
        ax.text(value, 0.80, f" {below} below {value:g} ", ha="right" if left else "left", va="top", fontsize=7,
                color=GATE_COLOUR, transform=ax.get_xaxis_transform(), bbox={**box, "edgecolor": GATE_COLOUR})


def _thresholds(gates, column: str) -> tuple[float, ...]:
    return tuple(g.threshold for g in gates if g.column == column)


def gate_figure(table: pd.DataFrame, gates=()) -> Figure:
    """Histograms of the quality gate's two measures, whole-track and worst-segment phase coherence, each with
    the threshold build applied (a dashed line; pairs left of it are excluded as too_different).

    Args:
        table: report_data.pairs_table rows.
        gates: report_data.gate_rules.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.0))
    fig.subplots_adjust(left=0.05, right=0.99, top=0.88, bottom=0.17, wspace=0.15)
    kept = table["status"] == "kept"
    specs = [
        ("coherence", "Phase coherence, whole track", "coherence of X and g·Y_i in the bins the instrumental carries"),
        ("segment_coherence", "Phase coherence, worst segment", "the lowest coherence of any segment"),
    ]
    for ax, (column, name, xlabel) in zip(axes, specs):
        rules = [g for g in gates if g.column == column]
        _hist(ax, table.loc[kept, column], table.loc[~kept, column], title=_context_title(name, rules), xlabel=xlabel,
              thresholds=_thresholds(rules, column), zoom=True)
        unjudged = int((table[column].isna() & table["status"].isin(["kept", "excluded"])).sum())
        if unjudged:
            ax.text(0.02, 0.84, f"{unjudged} built pairs without a value", ha="left", va="top", transform=ax.transAxes,
                    fontsize=7, color="#555")
    if axes[0].patches:  # no histogram before build has run
        axes[0].legend(fontsize=7, loc="center left")
    return fig


def _context_title(name: str, gates) -> str:
    """A panel's title: whether build's gate used its measure, and how."""
    if not gates:
        return f"{name} · not gating"
    limits = " / ".join(f"{g.threshold:g}" for g in gates)
    return f"{name} · gates: < {limits} → {gates[0].reason}" + (" (opt-in)" if gates[0].opt_in else "")


def distributions_figure(table: pd.DataFrame, gates=()) -> Figure:
    """Context: histograms of title score, duration delta, offset, gain, vocal ratio and alignment confidence
    (kept vs. not kept pairs). None decides the phase-coherence gate; a rule build applied to one is drawn on it.

    Args:
        table: report_data.pairs_table rows.
        gates: report_data.gate_rules.
    """
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.6))
    # fixed margins: constrained layout costs a second draw of every axis
    fig.subplots_adjust(left=0.05, right=0.99, top=0.95, bottom=0.09, wspace=0.22, hspace=0.42)
    kept = table["status"] == "kept"
    specs = [
        ("title_score", "Title score", "rapidfuzz score, 0..100 (checked by mine)"),
        ("duration_delta_s", "Duration delta", "instrumental − original, s (checked by mine)"),
        ("offset_s", "Offset", "instrumental lag, s"),
        ("gain_db", "Gain", "g, dB"),
        ("vocal_ratio", "Vocal-energy ratio", "energy(Y_v) / energy(X)"),
        ("align_confidence", "Alignment confidence", "normalised cross-correlation peak"),
    ]
    for ax, (column, name, xlabel) in zip(axes.flat, specs):
        rules = [g for g in gates if g.column == column]
        _hist(ax, table.loc[kept, column], table.loc[~kept, column], title=_context_title(name, rules), xlabel=xlabel,
              thresholds=_thresholds(rules, column))
    axes.flat[0].legend(fontsize=7)
    return fig


def counts_figure(table: pd.DataFrame, splits: list[tuple[str, int, int]]) -> Figure:
    """Pairs per artist (the TOP_ARTISTS largest) and kept pairs and patches per split.

    Args:
        table: report_data.pairs_table rows.
        splits: (split, pairs, patches) per split.
    """
    fig, (ax_artist, ax_split) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    fig.subplots_adjust(left=0.17, right=0.93, top=0.93, bottom=0.08, wspace=0.25)
    per_artist = table.groupby("artist", dropna=False)["pair_id"].count().sort_values(ascending=False)
    shown = per_artist.head(TOP_ARTISTS)[::-1]
    kept = table[table["status"] == "kept"].groupby("artist")["pair_id"].count().reindex(shown.index).fillna(0)
    y = np.arange(len(shown))
    ax_artist.barh(y, shown.to_numpy(), color=OTHER_COLOUR, label="not kept")
    ax_artist.barh(y, kept.to_numpy(), color=KEPT_COLOUR, label="kept")
    ax_artist.set_yticks(y, [str(a)[:28] for a in shown.index], fontsize=7)
    more = f" (top {len(shown)} of {len(per_artist)})" if len(per_artist) > len(shown) else ""
    ax_artist.set_title(f"Pairs per artist{more}", fontsize=10)
    ax_artist.legend(fontsize=7, loc="lower right")
    ax_artist.tick_params(axis="x", labelsize=7)
    ax_artist.xaxis.set_major_locator(MaxNLocator(integer=True))
    if splits:
        names = [s[0] for s in splits]
        x = np.arange(len(names))
        ax_split.bar(x - 0.2, [s[1] for s in splits], width=0.4, color=KEPT_COLOUR, label="pairs")
        twin = ax_split.twinx()
        twin.bar(x + 0.2, [s[2] for s in splits], width=0.4, color="#7570b3", label="patches")
        ax_split.set_xticks(x, names, fontsize=8)
        ax_split.set_ylabel("kept pairs", fontsize=8)
        twin.set_ylabel("patches", fontsize=8)
        twin.tick_params(labelsize=7)
        for axis in (ax_split.yaxis, twin.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
        ax_split.legend(handles=ax_split.patches[:1] + twin.patches[:1], labels=["pairs", "patches"], fontsize=7)
    else:
        ax_split.text(0.5, 0.5, "features not built", ha="center", va="center", transform=ax_split.transAxes)
    ax_split.set_title("Per split", fontsize=10)
    ax_split.tick_params(labelsize=7)
    return fig


def spectrogram_figure(spectra: np.ndarray, *, title: str, start_frame: int = 0, spec: SignalSpec = PAPER) -> Figure:
    """X, g·Y_i and Y_v side by side in dB, as in Figure 3 of Jansson et al. (2017).

    Args:
        spectra: (3, n_bins, n_frames) magnitudes normalised by the pair's max |X|.
        title: figure title (plain text; matplotlib does not interpret HTML).
        start_frame: first frame, for the time axis.
        spec: the shards' signal spec (the STFT's rate and hop, for the axes).
    """
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.9), sharey=True)
    fig.subplots_adjust(left=0.05, right=0.93, top=0.82, bottom=0.16, wspace=0.06)
    n_bins, n_frames = spectra.shape[1:]
    t0 = start_frame * spec.hop / spec.sample_rate
    extent = (t0, t0 + n_frames * spec.hop / spec.sample_rate, 0, n_bins * spec.bin_hz / 1000)
    image = None
    for ax, spectrum, name in zip(axes, spectra, ("Original X", "Instrumental g·Y_i", "Vocal Y_v = max(X − g·Y_i, 0)")):
        db = 20.0 * np.log10(np.maximum(spectrum, 10 ** (DB_FLOOR / 20)))
        image = ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=DB_FLOOR, vmax=0.0,
                          extent=extent, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("time, s", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("frequency, kHz", fontsize=8)
    bar = fig.colorbar(image, cax=fig.add_axes((0.945, 0.16, 0.012, 0.66)))
    bar.set_label("dB re max |X|", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return fig
