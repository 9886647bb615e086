"""`vocalmine train`: train the vocals or instrumental U-Net from the shards."""

from __future__ import annotations

import click

from vocalmine.commands.context import Context, check_device, pass_context
from vocalmine.core.overrides import parse_key_values
from vocalmine.model.config import TrainConfig  # a plain dataclass; torch is imported only when training starts

_DEFAULT = TrainConfig()  # shown in --help; options left out keep these, or a resumed run's own values


@click.command("train")
@click.option("--target", type=click.Choice(["vocals", "instrumental"]), required=True, help="Which model to train.")
@click.option("--no-skips", is_flag=True, show_default=True,
              help="The paper's baseline: the U-Net without skip connections (run <target>-noskip).")
@click.option("--model-set", default=None, metavar="NAME", show_default="the U-Net's folder (or -noskip's)",
              help="Train into models/<target>-NAME (for example a model built at another --preset), so that "
                   "`separate --models NAME` and `evaluate` score it beside the others.")
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N.")
@click.option("--resume", is_flag=True, show_default=True,
              help="Continue the run from its last.pt (same data order, RNG and optimizer state).")
@click.option("--steps", type=int, show_default=str(_DEFAULT.steps),
              help="Stop after this many optimizer steps in total (0: epochs decide).")
@click.option("--epochs", type=int, show_default=str(_DEFAULT.epochs), help="Maximum epochs.")
@click.option("--batch-size", type=int, show_default=str(_DEFAULT.batch_size),
              help="Patches per step (per process under torchrun).")
@click.option("--lr", type=float, show_default=f"{_DEFAULT.lr:g}", help="Adam learning rate.")
@click.option("--seed", type=int, show_default=str(_DEFAULT.seed), help="Seed of weights, data order and dropout.")
@click.option("--workers", type=int, show_default=str(_DEFAULT.workers), help="DataLoader worker processes.")
@click.option("--patience", type=int, show_default=str(_DEFAULT.patience),
              help="Early stopping: epochs without validation improvement.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", show_default="none",
              help="Any other TrainConfig field, e.g. --set max_val_patches=256.")
@pass_context
def train_command(ctx: Context, target: str, no_skips: bool, model_set: str | None, device: str, resume: bool,
                  sets: tuple[str, ...], **overrides) -> None:
    """Train one separation model; writes best.pt, last.pt, metrics.csv and tensorboard/ under the models folder.

    Runs on several GPUs (or CPU processes) when started with
    `torchrun --nproc_per_node N -m vocalmine train ...`. With --resume, options
    left out keep the values the run was started with, not the defaults shown.
    """
    check_device(device)  # before the shards are read
    from vocalmine.model.train import train  # here: torch, slow for --help

    explicit = {**{k: v for k, v in overrides.items() if v is not None}, **parse_key_values(sets)}
    if no_skips:
        explicit["skips"] = False
    summary = train(catalog=ctx.catalog, target=target, overrides=explicit, device=device, resume=resume,
                    model_set=model_set)
    click.echo(summary.describe())
