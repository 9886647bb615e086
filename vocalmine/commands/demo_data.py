"""`vocalmine demo-data`: write the generated demo corpus (library: vocalmine.demo.corpus.generate_corpus)."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.core.errors import VocalmineError

FALLBACK_DIR = Path("data/demo")  # used when the data catalog cannot be loaded


def _default_out(ctx: Context) -> Path:
    """The folder of the catalog's track CSV, so `mine` finds the corpus without editing the yaml."""
    try:
        return ctx.catalog.tracks.path.parent
    except VocalmineError:
        return FALLBACK_DIR


@click.command("demo-data")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              show_default="the folder of tracks.path in the data catalog, else data/demo", help="Corpus folder.")
@click.option("--songs", type=int, default=40, show_default=True,
              help="Album songs in the catalog (>= 8, one per trap).")
@click.option("--eval-songs", type=int, default=8, show_default=True, help="Songs of the evaluation set (>= 2).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; the same seed writes the same corpus.")
@click.option("--song-seconds", type=(float, float), default=(20.0, 32.0), show_default=True,
              help="Shortest and longest song, seconds (short songs make a quick corpus for tests).")
@click.option("--workers", type=int, default=None, show_default="min(2, CPUs)", help="Rendering processes.")
@pass_context
def demo_data_command(ctx: Context, out_dir: Path | None, songs: int, eval_songs: int, seed: int,
              song_seconds: tuple[float, float], workers: int | None) -> None:
    """Write the generated demo corpus: catalog, audio, stems, truth and evaluation set."""
    from vocalmine.demo.corpus import generate_corpus  # keeps `vocalmine --help` fast

    out_dir = out_dir if out_dir is not None else _default_out(ctx)
    summary = generate_corpus(out_dir, songs=songs, eval_songs=eval_songs, seed=seed, song_seconds=song_seconds,
                              workers=workers)
    click.echo(f"demo corpus in {summary.out_dir}")
    click.echo(f"  catalog.csv      {summary.tracks} rows: {summary.originals} originals, {summary.instrumentals} "
               f"instrumentals, {summary.malformed} malformed ({summary.audio_seconds / 60:.1f} min of audio)")
    click.echo(f"  truth_pairs.csv  {summary.true_pairs} pairs a perfect miner returns")
    click.echo(f"  eval/eval.csv    {summary.eval_songs} songs (mixture = vocals + accompaniment; the last has no "
               f"vocal)")
    click.echo("  traps            " + ", ".join(f"{kind} {count}" for kind, count in summary.traps.items()))
    click.echo("  formats          " + ", ".join(f"{fmt}: {count}" for fmt, count in summary.formats.items()))
    click.echo(f"  limiter          touched at most {summary.limited_fraction:.2%} of an original's samples")
    click.echo(f"  size {summary.bytes / 1e6:.1f} MB, generated in {summary.elapsed_s:.1f} s")
