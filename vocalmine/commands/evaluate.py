"""`vocalmine evaluate`: BSS Eval scores of reference systems and trained models."""

from __future__ import annotations

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.commands.mask_options import mask_options, mask_options_from


@click.command("evaluate")
@click.option("--models", "models", multiple=True, show_default=True,
              help="Model set to score (repeatable): unet, baseline, NAME; a named set may hold its vocal "
                   "model alone (the instrumental is then its mask's complement)  [default: every trained set].")
@click.option("--no-models", is_flag=True, show_default=True,
              help="Score the reference systems (mixture, oracle-irm) only.")
@click.option("--sample-rate", "rate", type=click.Choice(["model", "native"]), default="model", show_default=True,
              help="model: every file as mono at 8192 Hz (the paper's set-up); native: the files' own rate and "
                   "channels, full-band output beside the model's own-rate output resampled (NAME@model), plus a "
                   "high-band SNR above 5 kHz. Each model set runs at the signal spec it was trained at, so presets "
                   "compare on the same songs.")
@mask_options
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler  [default: a LocalCluster].")
@click.option("--workers", "n_workers", default=2, show_default=True, type=click.IntRange(1, 256),
              help="LocalCluster worker processes.")
@click.option("--backend", type=click.Choice(["fast", "mir_eval"]), default="fast", show_default=True,
              help="BSS Eval implementation (fast agrees with mir_eval within 0.01 dB).")
@click.option("--serial", is_flag=True, show_default=True, help="Score in this process, without Dask.")
@click.option("--no-oracle", is_flag=True, show_default=True, help="Skip the oracle ideal ratio mask.")
@click.option("--device", default="cpu", show_default=True, help="Torch device for the models (cpu, cuda, cuda:N).")
@pass_context
def evaluate_command(ctx: Context, models: tuple[str, ...], no_models: bool, rate: str, scheduler: str | None,
             n_workers: int, backend: str, serial: bool, no_oracle: bool, device: str, **masks) -> None:
    """Score mixture, oracle IRM and trained models on the evaluation set; print the tables."""
    from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate  # here: it imports torch, slow for --help

    config = EvaluateConfig(backend=backend, engine="serial" if serial else "dask", n_workers=n_workers,
                            oracle=not no_oracle, device=device, rate=rate, masks=mask_options_from(masks))
    names = [] if no_models else (list(models) or None)
    summary = evaluate(catalog=ctx.catalog, models=names, scheduler=scheduler, config=config)
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(summary.table)
    click.echo(f"\nwrote {summary.out_dir} ({summary.seconds:.1f} s)")
