"""Device, precision and CPU thread choices for training."""

from __future__ import annotations

import logging
import os

import torch

from vocalmine.core.errors import ConfigError
from vocalmine.model.distributed import DistEnv

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


def pick_device(name: str, env: DistEnv) -> torch.device:
    """The training device: "auto" takes CUDA when present, else the CPU.

    Under torchrun each process takes ``cuda:LOCAL_RANK``. "cuda:N" picks a
    GPU explicitly (single process).

    Raises:
        ConfigError: for an unknown name, or CUDA asked for but unavailable.
    """
    base = name.split(":", 1)[0]
    if base not in DEVICES:
        raise ConfigError(f"device={name!r}: expected one of {DEVICES} or 'cuda:N'")
    if base == "auto":
        base = "cuda" if torch.cuda.is_available() else "cpu"
    if base == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"device={name!r}: CUDA is not available on this machine (torch {torch.__version__})")
    index = int(name.split(":", 1)[1]) if ":" in name else env.local_rank
    if index >= torch.cuda.device_count():
        raise ConfigError(f"device={name!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def cpu_supports_bf16() -> bool:
    """True when this CPU runs bf16 natively (AVX-512 BF16 or AMX), as oneDNN reports it."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """The concrete precision of a config precision: "auto" is bf16 on CUDA and on a bf16-capable CPU, else fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16"
    return "bf16" if cpu_supports_bf16() else "fp32"


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a config precision (see :func:`resolve_precision`); None = fp32."""
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[resolve_precision(precision, device)]


def usable_cores() -> int:
    """CPU cores this process may run on (respects affinity masks and cgroups' cpusets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_cpu_threads(threads: int, env: DistEnv) -> int:
    """Set torch's intra-op threads: ``threads``, or the usable cores shared among processes.

    Loader workers are not subtracted: reading a patch from a memory map takes
    microseconds against a U-Net step of tenths of a second per patch on a CPU.
    """
    chosen = threads or max(1, usable_cores() // env.world_size)
    torch.set_num_threads(chosen)
    logger.info("CPU training with %d torch thread(s)", chosen)
    return chosen
