"""`vocalmine export`: a weights-only, half-precision model file that `separate --model` runs anywhere."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.commands.context import Context, pass_context


@click.command("export")
@click.option("--from", "source", type=click.Path(path_type=Path), default=None,
              help="Models folder or checkpoint to export  [default: the catalog's models folder].")
@click.option("--models", "name", default="unet", show_default=True,
              help="Model set in a models folder: unet, baseline (-noskip), or NAME.")
@click.option("--target", type=click.Choice(["both", "vocals", "instrumental"]), default="both", show_default=True,
              help="Targets to include (both enables ratio masks).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("vocalmine-model.pt"),
              show_default=True, help="The model file to write.")
@pass_context
def export_command(ctx: Context, source: Path | None, name: str, target: str, out: Path) -> None:
    """Write a model file (weights in float16, architecture, STFT parameters, provenance) for `separate --model`."""
    from vocalmine.model.checkpoint import TARGETS  # here: torch, slow for --help
    from vocalmine.model.loading import export_models, load_model_file

    loaded = load_model_file(source if source is not None else ctx.catalog.models, name=name)
    targets = TARGETS if target == "both" else (target,)
    path = export_models(loaded, out, targets=targets)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB; targets {', '.join(targets)}; float16 weights)")
