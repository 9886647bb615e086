"""The paper's tables from per-clip scores, as DataFrames, Markdown and box plots.

Table A (Jansson et al. 2017, Tables 2-3 layout): rows NSDR/SIR/SAR x vocal/
instrumental, one column per system, with the global (duration-weighted) mean
GNSDR/GSIR/GSAR used by published MIR-1K numbers next to the mean and median.
Table B (Tables 4-5 layout): per system and source, Mean, SD, Min, Max, Median
of NSDR, plus GNSDR.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.atomic import atomic_path
from vocalmine.core.contract.scores import SOURCES

LABELS = {"vocals": "Vocal", "instrumental": "Instrumental"}
METRIC_LABELS = {"nsdr": "NSDR", "sir": "SIR", "sar": "SAR", "sdr": "SDR"}


def weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    """Duration-weighted mean, ignoring non-finite values (the G in GNSDR)."""
    ok = np.isfinite(values.to_numpy(dtype=float))
    w = weights.to_numpy(dtype=float)[ok]
    return float(np.sum(values.to_numpy(dtype=float)[ok] * w) / np.sum(w)) if w.sum() > 0 else float("nan")


def system_order(scores: pd.DataFrame) -> list[str]:
    """Systems in first-appearance order (the evaluate call's column order)."""
    return list(dict.fromkeys(scores["system"]))


def metric_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Table A: index (metric, source, statistic in global/mean/median), one column per system."""
    rows = []
    for metric in ("nsdr", "sir", "sar"):
        for source in SOURCES:
            sub = scores[scores["source"] == source]
            for stat in ("global", "mean", "median"):
                row = {"metric": METRIC_LABELS[metric], "source": LABELS[source], "stat": stat}
                for system in system_order(scores):
                    s = sub[sub["system"] == system]
                    vals = s[metric].replace([np.inf, -np.inf], np.nan)
                    if stat == "global":
                        row[system] = weighted_mean(s[metric], s["duration_s"])
                    elif stat == "mean":
                        row[system] = float(vals.mean())
                    else:
                        row[system] = float(vals.median())
                rows.append(row)
    return pd.DataFrame(rows).set_index(["metric", "source", "stat"])


def nsdr_stats(scores: pd.DataFrame) -> pd.DataFrame:
    """Table B: one row per (system, source): Mean, SD, Min, Max, Median, GNSDR of NSDR, clips."""
    rows = []
    for system in system_order(scores):
        for source in SOURCES:
            s = scores[(scores["system"] == system) & (scores["source"] == source)]
            v = s["nsdr"].replace([np.inf, -np.inf], np.nan).dropna()
            rows.append(
                {
                    "system": system,
                    "source": LABELS[source],
                    "Mean": float(v.mean()),
                    "SD": float(v.std(ddof=0)),
                    "Min": float(v.min()),
                    "Max": float(v.max()),
                    "Median": float(v.median()),
                    "GNSDR": weighted_mean(s["nsdr"], s["duration_s"]),
                    "clips": int(len(v)),
                }
            )
    return pd.DataFrame(rows)


def global_table(scores: pd.DataFrame) -> pd.DataFrame:
    """GNSDR, GSIR, GSAR (duration-weighted) per system and source."""
    rows = []
    for system in system_order(scores):
        for source in SOURCES:
            s = scores[(scores["system"] == system) & (scores["source"] == source)]
            rows.append(
                {
                    "system": system,
                    "source": LABELS[source],
                    "GNSDR": weighted_mean(s["nsdr"], s["duration_s"]),
                    "GSIR": weighted_mean(s["sir"], s["duration_s"]),
                    "GSAR": weighted_mean(s["sar"], s["duration_s"]),
                }
            )
    return pd.DataFrame(rows)


def native_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per kind of file (rate, channels), system and source: SDR, SIR, SAR, NSDR (duration-weighted)
    and the high-band SNR above 5 kHz."""
    rows = []
    kinds = scores[["sample_rate", "channels"]].drop_duplicates().sort_values(["sample_rate", "channels"],
                                                                              ascending=False)
    for rate, channels in kinds.itertuples(index=False):
        files = scores[(scores["sample_rate"] == rate) & (scores["channels"] == channels)]
        layout = "stereo" if channels == 2 else "mono" if channels == 1 else f"{channels} ch"
        label = f"{rate} Hz {layout} ({files['song'].nunique()})"
        for system in system_order(scores):
            for source in SOURCES:
                s = files[(files["system"] == system) & (files["source"] == source)]
                rows.append({"files": label, "system": system, "source": LABELS[source],
                             **{name: weighted_mean(s[col], s["duration_s"]) for col, name in
                                (("sdr", "SDR"), ("sir", "SIR"), ("sar", "SAR"), ("nsdr", "NSDR"),
                                 ("snr_high", "SNR>5k"))}})
    return pd.DataFrame(rows)


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "n/a" if np.isnan(value) else ("inf" if np.isinf(value) else f"{value:.2f}")
    return str(value)


def markdown(df: pd.DataFrame, *, index: bool = False) -> str:
    """A GitHub Markdown table of ``df`` with floats to 2 decimals."""
    frame = df.reset_index() if index else df
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(frame.columns))) + "|"
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def tables_markdown(scores: pd.DataFrame, *, title: str, excluded: pd.DataFrame) -> str:
    """The whole tables.md text: Table A, Table B, the global table and the exclusions."""
    n_clips = scores["song"].nunique()
    parts = [
        f"# {title}",
        "",
        f"{n_clips} clips scored; {len(excluded)} excluded"
        + (" (" + ", ".join(f"{r}: {c}" for r, c in excluded["reason"].value_counts().items()) + ")" if len(excluded)
           else "")
        + ". dB; NSDR = SDR(estimate) - SDR(mixture). global = duration-weighted mean (GNSDR, GSIR, GSAR).",
        "",
        "## NSDR, SIR and SAR per system (layout of Jansson et al. 2017, Tables 2-3)",
        "",
        markdown(metric_table(scores), index=True),
        "",
        "## NSDR statistics per system (layout of Tables 4-5)",
        "",
        markdown(nsdr_stats(scores)),
        "",
        "## Global (duration-weighted) metrics",
        "",
        markdown(global_table(scores)),
        "",
        "The mixture's SAR is meaningless (no artifacts: the value is numerical noise).",
        "",
    ]
    if "snr_high" in scores and scores["snr_high"].notna().any():
        rates = ", ".join(f"{r} Hz" for r in sorted(scores["sample_rate"].unique()))
        parts += [
            f"## At the files' own rate and channels ({rates})",
            "",
            "SDR, SIR, SAR, NSDR: BSS Eval v3 with the channels scored as one signal; SNR>5k: plain SNR above 5 kHz "
            "after a steep high-pass of reference and estimate (no distortion filter; an output that stops at "
            "4 kHz scores 0 dB). NAME@model: the model's output at its own rate (8192 Hz for the paper preset) "
            "resampled to the file's rate. "
            "Duration-weighted means, dB.",
            "",
            markdown(native_table(scores)),
            "",
        ]
    return "\n".join(parts)


def box_plots(scores: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One PNG per metric (NSDR, SIR, SAR): a box per system and source, as the paper's Figure 2."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    systems = system_order(scores)
    for metric in ("nsdr", "sir", "sar"):
        fig, axes = plt.subplots(1, len(SOURCES), figsize=(3 + 1.4 * len(systems) * len(SOURCES), 4), sharey=False)
        for ax, source in zip(np.atleast_1d(axes), SOURCES):
            data = []
            for system in systems:
                v = scores[(scores["system"] == system) & (scores["source"] == source)][metric]
                data.append(v.replace([np.inf, -np.inf], np.nan).dropna().to_numpy())
            ax.boxplot(data, tick_labels=systems, showfliers=True)
            ax.set_title(f"{METRIC_LABELS[metric]}, {LABELS[source].lower()}")
            ax.set_ylabel("dB")
            ax.grid(axis="y", alpha=0.3)
            ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        path = out_dir / f"boxplot_{metric}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        paths.append(path)
    return paths
