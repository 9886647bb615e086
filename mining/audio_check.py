"""Decoded audio against the catalog, before pairing (pure, row-local: runs per partition in either engine).

Every file that can take part in a pair is decoded at `mine` anyway (for the
content fingerprints). Doing it before pairing means that a file which is not
what its row says (truncated, cut to a few KiB, another edit) is set aside with
both durations named, and its rival candidates can still pair:

- the file does not decode: ``undecodable`` (stage content), or ``bad_duration``
  (stage ingest) when the catalog gave no usable duration either;
- the decoded duration differs from the catalog's by more than the tolerance:
  ``duration_mismatch`` (stage content);
- the catalog has no usable duration and the file decodes: the decoded duration
  is used, and the row goes on.

Rows whose file was not decoded (no candidate partner at all) pass unchanged.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from vocalmine.core.contract import mining_reasons as R

CONTENT = "content"
INGEST = "ingest"
# columns added by annotate_audio
AUDIO_COLUMNS = ("_a_stage", "_a_reason", "_a_detail")


def annotate_audio(valid: pd.DataFrame, *, decoded: dict[str, tuple[float, str]], tolerance_s: float) -> pd.DataFrame:
    """Valid tracks with decoded durations filled in and the audio verdict of each row.

    Args:
        valid: (n rows) ingest.TRACK_COLUMNS.
        decoded: audio path -> (decoded duration in seconds, decode error or "").
        tolerance_s: largest |decoded - catalog| duration accepted, seconds.

    Returns:
        ``valid`` with duration_s filled where the catalog had none and the file decoded,
        and AUDIO_COLUMNS ("" where the row goes on).
    """
    out = valid.copy()
    n = len(out)
    stage = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    dur = out["duration_s"].to_numpy(dtype=np.float64).copy()
    paths = out["audio_path"].to_numpy(dtype=object)
    for k, path in enumerate(paths.tolist()):
        got = decoded.get(path) if path else None
        if got is None:
            continue
        seconds, error = got
        if error:
            if np.isnan(dur[k]):
                stage[k], reason[k] = INGEST, R.BAD_DURATION
                detail[k] = f"no usable catalog duration, and the audio does not decode: {error}"
            else:
                stage[k], reason[k], detail[k] = CONTENT, R.UNDECODABLE, error
        elif np.isnan(dur[k]):
            dur[k] = float(seconds)
        elif abs(seconds - dur[k]) > tolerance_s:
            stage[k], reason[k] = CONTENT, R.DURATION_MISMATCH
            detail[k] = (f"decoded audio lasts {seconds:.1f} s but the catalog says {dur[k]:.1f} s "
                         f"(tolerance {tolerance_s:g} s): {path}")
    out["duration_s"] = dur
    out["_a_stage"] = pd.Series(stage, index=out.index, dtype=object)
    out["_a_reason"] = pd.Series(reason, index=out.index, dtype=object)
    out["_a_detail"] = pd.Series(detail, index=out.index, dtype=object)
    return out


def audio_rejects(annotated: pd.DataFrame) -> pd.DataFrame:
    """REJECTS columns of the rows annotate_audio set aside, ordered by track_id."""
    bad = annotated[annotated["_a_reason"] != ""].sort_values("track_id", kind="mergesort")
    rows = [json.dumps({"track_id": t, "artist": a, "title": ti, "duration_s": None if np.isnan(d) else float(d),
                        "audio_path": p},
                       ensure_ascii=False)
            for t, a, ti, d,
            p in zip(bad["track_id"], bad["artist"], bad["title"], bad["duration_s"].astype(float), bad["audio_path"])]
    return pd.DataFrame(
        {
            "stage": bad["_a_stage"].to_numpy(dtype=object),
            "reason": bad["_a_reason"].to_numpy(dtype=object),
            "track_id": bad["track_id"].to_numpy(dtype=object),
            "pair_id": pd.Series([None] * len(bad), dtype=object),
            "detail": bad["_a_detail"].to_numpy(dtype=object),
            "row": pd.Series(rows, dtype=object),
        }
    )
