"""Several processes under torchrun: detection, process group, reductions.

``torchrun --nproc_per_node N -m vocalmine train ...`` sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; the trainer then runs one process
per device with DistributedDataParallel (nccl on CUDA, gloo on CPU). Without
those variables everything here is a no-op for a single process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from vocalmine.core.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0  # global rank; rank 0 alone writes files
    world_size: int = 1  # number of processes
    local_rank: int = 0  # rank on this machine: picks the CUDA device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def detect() -> DistEnv:
    """The DistEnv described by torchrun's environment variables (single process without them).

    Raises:
        ConfigError: when the variables are malformed.
    """
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return DistEnv()
    try:
        env = DistEnv(
            rank=int(os.environ["RANK"]),
            world_size=int(os.environ["WORLD_SIZE"]),
            local_rank=int(os.environ.get("LOCAL_RANK", os.environ["RANK"])),
        )
    except ValueError as exc:
        raise ConfigError(f"malformed torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {exc}") from exc
    if not 0 <= env.rank < env.world_size:
        raise ConfigError(f"RANK={env.rank} must lie in [0, WORLD_SIZE={env.world_size})")
    return env


def init(env: DistEnv, device: torch.device) -> bool:
    """Join the process group when ``env`` is distributed; True when this call created it."""
    if not env.distributed or dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, init_method="env://", rank=env.rank, world_size=env.world_size)
    logger.info("rank %d/%d joined the %s process group", env.rank, env.world_size, backend)
    return True


def shutdown(created: bool) -> None:
    """Leave the process group if :func:`init` created it."""
    if created and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(values: list[torch.Tensor], env: DistEnv) -> list[float]:
    """Sum scalar tensors over all ranks; plain floats back."""
    stacked = torch.stack([v.detach().float().reshape(()) for v in values])
    if env.distributed:
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
    return [float(v) for v in stacked.cpu()]


def gather_objects(obj: Any, env: DistEnv) -> list[Any]:
    """``obj`` of every rank, in rank order (a one-item list for a single process)."""
    if not env.distributed:
        return [obj]
    out: list[Any] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_buffers(module: torch.nn.Module, env: DistEnv) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank.

    DDP syncs buffers at the start of each forward, so after the last step each
    rank holds its own update; this makes validation and the saved weights agree.
    """
    if env.distributed:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def barrier(env: DistEnv) -> None:
    """Wait for every rank (no-op for a single process)."""
    if env.distributed:
        dist.barrier()
