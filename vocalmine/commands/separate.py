"""`vocalmine separate`: split audio files into vocals and instrumental."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.commands.mask_options import mask_options, mask_options_from
from vocalmine.core.atomic import remove_temps_of
from vocalmine.core.errors import CatalogError
from vocalmine.core.constants import SAMPLE_RATE

DEFAULT_OUT = "separated"  # output folder, relative to the working folder, when there is no catalog


def parse_rate(value: str) -> str | int:
    """--sample-rate: "native" (alias "original"), "model" (alias "8192", the paper's model rate) or a rate in Hz."""
    if value in ("native", "original"):
        return "native"
    if value in ("model", str(SAMPLE_RATE)):
        return "model"
    try:
        rate = int(value)
    except ValueError:
        raise click.BadParameter(f"expected native, model or a rate in Hz, got {value!r}") from None
    if not 1000 <= rate <= 384000:
        raise click.BadParameter(f"expected a rate between 1000 and 384000 Hz, got {rate}")
    return rate


@click.command("separate")
@click.argument("audio", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Exported model file (vocalmine export), a checkpoint, or a models folder  "
                   "[default: the catalog's models folder].")
@click.option("--models", "name", default="unet", show_default=True,
              help="Model set in a models folder: unet (vocals + instrumental), baseline (-noskip), or NAME.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Output folder  [default: the catalog's 'separated' folder, or ./{DEFAULT_OUT} without a catalog].")
@click.option("--sample-rate", "sample_rate", default="native", show_default=True,
              help="native: each input's own rate and channels, full band; model: the model's own rate and channels "
                   "(8192 Hz mono for the paper's preset, as the model file says); or a rate in Hz "
                   "(full band, resampled).")
@click.option("--format", "fmt", type=click.Choice(["pcm16", "pcm24", "float"]), default="pcm16", show_default=True,
              help="WAV sample format of the outputs.")
@mask_options
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist already (otherwise they are an error).")
@click.option("--resume", is_flag=True,
              help="Keep the outputs of inputs separated already (by a run that was killed or interrupted) and "
                   "separate the rest. Outputs are written whole or not at all, so one that exists is complete.")
@click.option("--device", default="auto", show_default=True,
              help="Torch device: auto (cuda when available), cpu, cuda, cuda:N.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="Model arithmetic: auto is bf16 on a GPU or a CPU with native bf16, else fp32.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1, 1024),
              help="Windows per forward pass.")
@pass_context
def separate_command(ctx: Context, audio: tuple[Path, ...], model_path: Path | None, name: str, out_dir: Path | None,
             sample_rate: str, fmt: str, overwrite: bool, resume: bool, device: str, precision: str, batch_size: int,
             **masks) -> None:
    """Separate AUDIO files (WAV, FLAC, MP3) into NAME.vocals.wav and NAME.instrumental.wav.

    By default the outputs keep each input's sample rate and channels, full band.
    """
    from vocalmine.model.checkpoint import TARGETS  # here: torch, slow for --help
    from vocalmine.model.output import SUBTYPES, output_names
    from vocalmine.model.separator import Separator

    rate = parse_rate(sample_rate)
    options = mask_options_from(masks)
    if model_path is None or out_dir is None:
        if ctx.catalog_path.is_file():
            catalog = ctx.catalog
            model_path = model_path or catalog.models
            out_dir = out_dir or catalog.separated
        elif model_path is None:
            raise CatalogError(f"{ctx.catalog_path}: no data catalog here; give the model with --model FILE "
                               "(a file from `vocalmine export`, a checkpoint or a models folder)")
        else:
            out_dir = Path(DEFAULT_OUT)
    names = output_names(audio)  # before loading the models: a clash is reported at once
    separator = Separator.from_file(model_path, name=name, device=device, batch_size=batch_size, mask=options,
                                    precision=precision)
    for path, stem in zip(audio, names):
        targets = [Path(out_dir) / f"{stem}.{target}.wav" for target in TARGETS]
        if resume and not overwrite and all(t.is_file() for t in targets):
            click.echo(f"{path}: {', '.join(t.name for t in targets)} -> {targets[0].parent} (kept: --resume)")
            continue
        for target in targets:
            remove_temps_of(target)  # a killed run's half-written copies, never under the final names
        r = separator.separate_file(path, out_dir, name=stem, output="model" if rate == "model" else "native",
                                    sample_rate=rate if isinstance(rate, int) else None, subtype=SUBTYPES[fmt],
                                    overwrite=overwrite or resume)  # resumed: one of the two may have been written
        speed = r.duration_s / r.seconds if r.seconds > 0 else float("inf")
        click.echo(f"{r.source}: {r.vocals.name}, {r.instrumental.name} -> {r.vocals.parent} "
                   f"({r.sample_rate} Hz, {r.channels} ch; {r.duration_s:.1f} s in {r.seconds:.2f} s, "
                   f"{speed:.0f}x realtime)")
