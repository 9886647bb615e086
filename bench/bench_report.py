"""Benchmark: `build_report` for 10^4 fabricated pairs, time and page size, against a naive page.

The naive baseline is what a user would otherwise write: every table through
``pandas.DataFrame.to_html`` and the same matplotlib figures at full size
(dpi 150, true-colour PNG), no pagination, no quantisation.

Usage:
    .venv/bin/python bench/bench_report.py [--pairs 10000] [--repeats 3]

Uses fabricated artifacts (vocalmine/testing/artifacts.py), so it needs no shared data.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import tempfile
import time
from pathlib import Path



def naive_page(catalog, out: Path) -> int:
    """The baseline page: to_html of every table + full-size figures. Returns its size in bytes."""
    import matplotlib.pyplot as plt

    from vocalmine.report import data as data
    from vocalmine.report import plots as plots

    artifacts = data.load_artifacts(catalog)
    table = data.pairs_table(artifacts)
    rejects = data.rejects_table(artifacts)

    def png(fig) -> str:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150)
        plt.close(fig)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    gates = data.gate_rules(artifacts.quality, artifacts.build_settings)
    figures = [plots.gate_figure(table, gates), plots.distributions_figure(table, gates), plots.counts_figure(table, [])]
    for _, pair_id in data.pick_examples(table, artifacts.index):
        figures.append(plots.spectrogram_figure(data.example_spectrograms(catalog.shards, artifacts.index, pair_id),
                                                title=pair_id))
    images = "".join(f'<img src="data:image/png;base64,{png(f)}">' for f in figures)
    text = f"<html><body>{images}{table.to_html()}{rejects.to_html()}</body></html>"
    out.write_text(text, encoding="utf-8")
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--artists", type=int, default=1_500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from vocalmine.report.report import PAGE_BUDGET_BYTES, build_report

    from vocalmine.testing.artifacts import fabricate

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        fab = fabricate(Path(tmp), n_pairs=args.pairs, n_artists=args.artists, audio_files=4, seconds=8.0)
        print(f"fabricated {args.pairs:,} pairs in {time.perf_counter() - started:.1f} s")

        times, summary = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            summary = build_report(catalog=fab.catalog)
            times.append(time.perf_counter() - started)
        naive_times, naive_size = [], 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            naive_size = naive_page(fab.catalog, Path(tmp) / "naive.html")
            naive_times.append(time.perf_counter() - started)

    report_t, naive_t = statistics.median(times), statistics.median(naive_times)
    print(f"pairs {summary.n_pairs:,}, rejects {summary.n_rejects:,}, examples {summary.n_examples}, "
          f"worst segments {summary.n_segments}")
    print(f"build_report: median {report_t:.2f} s of {args.repeats} ({', '.join(f'{t:.2f}' for t in times)}), "
          f"page {summary.size_bytes / 2**20:.2f} MB (budget {PAGE_BUDGET_BYTES / 2**20:.1f} MB)")
    print(f"naive to_html + full-size PNGs: median {naive_t:.2f} s, page {naive_size / 2**20:.2f} MB")
    print(f"ratio naive/report: time {naive_t / report_t:.2f}x, size {naive_size / summary.size_bytes:.2f}x")


if __name__ == "__main__":
    main()
