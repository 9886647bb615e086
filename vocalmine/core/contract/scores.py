"""Declared schemas of the evaluation artifacts (catalog.evaluation).

``scores.parquet`` holds one row per clip x system x source; ``excluded.parquet``
one row per clip set aside (silent reference vocals, unreadable audio, ...).
"""

from __future__ import annotations

import pyarrow as pa

SCORES_FILE = "scores.parquet"
EXCLUDED_FILE = "excluded.parquet"
TABLES_FILE = "tables.md"
SUMMARY_FILE = "summary.json"

SOURCES = ("vocals", "instrumental")  # order of the reference/estimate rows given to BSS Eval
METRICS = ("nsdr", "sdr", "sir", "sar")

# Reference systems evaluated with the same code as trained models.
SYSTEM_MIXTURE = "mixture"  # the mixture as the estimate of every source: NSDR 0 by definition
SYSTEM_ORACLE = "oracle-irm"  # ideal ratio mask |S| / (|V| + |A|) at this STFT, mixture phase
# At the native rate, model set NAME is scored full-band as NAME and as its own-rate output resampled as NAME@model.

SCORES_SCHEMA = pa.schema(
    [
        ("song", pa.string()),  # eval.csv song id
        ("system", pa.string()),  # mixture | oracle-irm | a model set name (unet, baseline, ...) | NAME@model
        ("source", pa.string()),  # vocals | instrumental (the accompaniment stem)
        ("duration_s", pa.float64()),  # clip length in seconds, the GNSDR weight
        ("sdr", pa.float64()),  # dB, BSS Eval v3 SDR of the estimate
        ("sir", pa.float64()),  # dB, source to interference ratio
        ("sar", pa.float64()),  # dB, source to artifacts ratio
        ("sdr_mixture", pa.float64()),  # dB, SDR of the unprocessed mixture for this source
        ("nsdr", pa.float64()),  # dB, sdr - sdr_mixture
        ("snr_high", pa.float64()),  # dB, plain SNR above 5 kHz after a steep high-pass of both; NaN at 8192 Hz
        # Hz the clip was scored at (8192, or the files' own rate with --sample-rate native)
        ("sample_rate", pa.int64()),
        ("channels", pa.int64()),  # channels scored (1 at 8192 Hz; the mixture's channels at the native rate)
    ]
)

EXCLUDED_SCHEMA = pa.schema(
    [
        ("song", pa.string()),  # eval.csv song id
        ("reason", pa.string()),  # silent_vocals | silent_accompaniment | undecodable | length_mismatch
        ("detail", pa.string()),  # human-readable explanation with the offending value
    ]
)
