"""`vocalmine separate`: split audio files into vocals and instrumental."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.commands.context import Context, pass_context
from vocalmine.core.constants import SAMPLE_RATE


def _rate(value: str) -> int | None:
    if value == "original":
        return None
    try:
        rate = int(value)
    except ValueError:
        raise click.BadParameter(f"expected a rate in Hz or 'original', got {value!r}") from None
    if not 1000 <= rate <= 384000:
        raise click.BadParameter(f"expected a rate between 1000 and 384000 Hz, got {rate}")
    return rate


@click.command("separate")
@click.argument("audio", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: the catalog's 'separated' folder].")
@click.option("--models", "name", default="unet", show_default=True,
              help="Model set under the catalog's models folder: unet (vocals + instrumental), baseline (-noskip), or NAME.")
@click.option("--sample-rate", "sample_rate", default=str(SAMPLE_RATE), show_default=True,
              help="Output rate in Hz, or 'original' for each input's own rate.")
@click.option("--device", default=None, help="Torch device (cpu, cuda, cuda:1) [default: cuda when available].")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1, 1024), help="Windows per forward pass.")
@pass_context
def separate(ctx: Context, audio: tuple[Path, ...], out_dir: Path | None, name: str, sample_rate: str,
             device: str | None, batch_size: int) -> None:
    """Separate AUDIO files (WAV, FLAC, MP3) into NAME.vocals.wav and NAME.instrumental.wav."""
    from vocalmine.model.inference import separate_files

    catalog = ctx.catalog
    results = separate_files(
        paths=audio,
        out_dir=out_dir or catalog.separated,
        models_dir=catalog.models,
        name=name,
        sample_rate=_rate(sample_rate),
        device=device,
        batch_size=batch_size,
    )
    for r in results:
        speed = r.duration_s / r.seconds if r.seconds > 0 else float("inf")
        click.echo(f"{r.source}: {r.vocals.name}, {r.instrumental.name} -> {r.vocals.parent} "
                   f"({r.duration_s:.1f} s in {r.seconds:.2f} s, {speed:.0f}x realtime)")
