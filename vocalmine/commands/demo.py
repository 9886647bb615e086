"""`vocalmine demo`: the whole job on the generated corpus."""

from __future__ import annotations

import click

from vocalmine.commands.context import Context, check_device, pass_context
from vocalmine.core.contract.report import REPORT_FILE
from vocalmine.core.contract.scores import SCORES_FILE, TABLES_FILE
from vocalmine.demo.options import DEMO_BATCH, DEMO_EVAL_SONGS, DEMO_SONGS, DEMO_STEPS, DemoOptions


@click.command("demo")
@click.option("--songs", type=click.IntRange(8), default=DEMO_SONGS, show_default=True,
              help="Album songs of the generated corpus.")
@click.option("--eval-songs", type=click.IntRange(2), default=DEMO_EVAL_SONGS, show_default=True,
              help="Songs of the evaluation set.")
@click.option("--song-seconds", type=(float, float), default=(20.0, 32.0), show_default=True,
              help="Length range of generated songs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Corpus, split and training seed.")
@click.option("--steps", type=click.IntRange(1), default=DEMO_STEPS, show_default=True,
              help="Training steps per model.")
@click.option("--batch-size", type=click.IntRange(1), default=DEMO_BATCH, show_default=True,
              help="Patches per training step.")
@click.option("--device", default="auto", show_default=True, help="Training/separation device: auto, cpu, cuda.")
@click.option("--scheduler", default=None, show_default="a LocalCluster per stage", help="Dask scheduler address.")
@pass_context
def demo_command(ctx: Context, songs: int, eval_songs: int, song_seconds: tuple[float, float], seed: int, steps: int,
         batch_size: int, device: str, scheduler: str | None) -> None:
    """Run every stage on the generated demo corpus and print the evaluation table.

    Generates the corpus when the catalog's track CSV is missing, then mines,
    builds, reports, trains the U-Net and the no-skip baseline for both
    targets, evaluates them against the mixture and the oracle mask, and
    separates two evaluation mixtures. Finished steps are reused on a re-run.
    """
    check_device(device)  # before the corpus is generated and every stage runs
    options = DemoOptions(
        songs=songs, eval_songs=eval_songs, song_seconds=song_seconds, seed=seed, steps=steps, batch_size=batch_size,
        device=device, scheduler=scheduler
    )
    from vocalmine.demo.run import run_demo  # here: it imports every stage, torch included, too slow for --help

    summary = run_demo(catalog_path=ctx.catalog_path, options=options, echo=click.echo)
    catalog = summary.catalog
    click.echo("")
    click.echo(summary.evaluation_table)
    click.echo("")
    click.echo(f"report:     {catalog.report / REPORT_FILE}")
    click.echo(f"models:     {catalog.models}")
    click.echo(f"separated:  {catalog.separated}")
    click.echo(f"scores:     {catalog.evaluation / SCORES_FILE} ({TABLES_FILE}, box plots beside it)")
    click.echo(f"demo finished in {summary.seconds / 60:.1f} min")
