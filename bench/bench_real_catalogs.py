"""Real catalogs, metadata only: what `mine` pairs, and every marker-carrying row it leaves unpaired, and why.

Mines the shared Discogs and Spotify samples (../shared/data/catalogs/) with
each --missing-duration setting and prints, for a person to read:

- every pair produced (artist, original title, instrumental title, durations, marker and family);
- every row that carries an instrumental marker but ends in no pair: unpaired with
  its nearest candidate and why it lost, or rejected with its reason;
- the mining summary (top reasons, and the option behind any reason over 20% of rows).

No audio: paths and fingerprints are empty, and the content stage is skipped.
Skipped with a message when the folder is absent (tests never depend on it).

    python bench/bench_real_catalogs.py [--catalogs DIR] [--work /tmp/mining/real]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "catalogs"

# file -> (track columns mapping as YAML lines, duration unit)
CATALOGS = {
    "discogs_sample_tracks.csv": (
        "track_id: release_id+position\n    artist: artist\n    title: track_title\n    duration: duration", "auto"),
    "spotify_hit_predictor_tracks.csv": ("track_id: uri\n    artist: artist\n    title: track\n    duration: duration_ms", "ms"),
}
POLICIES = ("reject", "keep")


def _yaml(csv: Path, columns: str, unit: str) -> str:
    return (f"tracks:\n  path: {csv}\n  duration_unit: {unit}\n  columns:\n    {columns}\n"
            "pairs: work/pairs.parquet\nrejects: work/rejects.parquet\nunpaired: work/unpaired.parquet\n"
            "fingerprints: work/fingerprints.parquet\n")


def _fmt_s(value) -> str:
    return "  ?  " if pd.isna(value) else f"{int(value) // 60}:{int(round(value)) % 60:02d}"


def run_one(csv: Path, columns: str, unit: str, policy: str, work: Path) -> dict:
    """Mine one catalog with one missing-duration policy; print pairs and marker rows left out."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.core.errors import NothingUsableError
    from vocalmine.core.tables import REJECTS_SCHEMA, read_table
    from vocalmine.mining.config import MiningConfig
    from vocalmine.mining.normalize import analyze_titles
    from vocalmine.mining.mine import mine
    from vocalmine.core.contract.pairs import PAIRS_SCHEMA, UNPAIRED_SCHEMA

    work.mkdir(parents=True, exist_ok=True)
    yaml_file = work / "data_catalog.yaml"
    yaml_file.write_text(_yaml(csv, columns, unit), encoding="utf-8")
    catalog = load_catalog(yaml_file)
    print(f"\n=== {csv.name}  --missing-duration {policy} ===")
    try:
        summary = mine(catalog=catalog, scheduler="sync", config=MiningConfig(missing_duration=policy))
        print(summary.format())
    except NothingUsableError as exc:
        print(f"(no pair: {exc})")
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    unpaired = read_table(catalog.unpaired, UNPAIRED_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)

    print(f"\n-- {len(pairs)} pairs (original  <->  instrumental, durations, marker/family, title score)")
    for p in pairs.sort_values(["artist", "original_title"]).itertuples():
        print(f"P  {p.artist} | {p.original_title!r} <-> {p.instrumental_title!r} | "
              f"{_fmt_s(p.original_duration_s)} / {_fmt_s(p.instrumental_duration_s)} | {p.marker}/{p.marker_family} | {p.title_score:.0f}"
              f"  [{p.original_id} + {p.instrumental_id}]")

    marked = unpaired[unpaired["marker"] != ""]
    print(f"\n-- {len(marked)} marker-carrying rows left unpaired (reason; nearest candidate)")
    for u in marked.sort_values(["reason", "artist", "title"]).itertuples():
        near = f"nearest {u.nearest_title!r} ({u.nearest_score:.0f})" if isinstance(u.nearest_id, str) else "no candidate"
        print(f"U  {u.reason:<20} {u.artist} | {u.title!r} | {_fmt_s(u.duration_s)} | {near} | {u.detail}  [{u.track_id}]")

    # rows rejected at ingest whose title carries a marker (a bad duration, say)
    title_col = columns.split("title: ")[1].split("\n")[0].strip()
    ingest = rejects[rejects["stage"] == "ingest"]
    raw = [json.loads(r) for r in ingest["row"]]
    titles = [r.get(title_col, "") if isinstance(r, dict) else "" for r in raw]
    infos = analyze_titles(titles) if titles else []
    hit = [k for k, i in enumerate(infos) if i.instrumental]
    print(f"\n-- {len(hit)} marker-carrying rows rejected at ingest")
    for k in hit:
        row = ingest.iloc[k]
        print(f"R  {row['reason']:<20} {titles[k]!r} | {row['detail']}")
    return {"catalog": csv.name, "policy": policy, "pairs": len(pairs), "unpaired_marked": len(marked), "rejected_marked": len(hit)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalogs", type=Path, default=DEFAULT_DIR, help="folder holding the shared catalog samples")
    parser.add_argument("--work", type=Path, default=Path("/tmp/mining/real"), help="where outputs are written")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.catalogs.is_dir():
        print(f"skipped: {args.catalogs} is absent (the real catalog samples are not on this machine)")
        return 0
    rows = []
    for name, (columns, unit) in CATALOGS.items():
        csv = args.catalogs / name
        if not csv.is_file():
            print(f"skipped {name}: not in {args.catalogs}")
            continue
        for policy in POLICIES:
            rows.append(run_one(csv, columns, unit, policy, args.work / f"{csv.stem}-{policy}"))
    print("\n" + pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
