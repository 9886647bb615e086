"""Device, precision and CPU thread choices for training."""

from __future__ import annotations

import logging
import os

import torch

from vocalmine.core.errors import ConfigError
from vocalmine.model.distributed import DistEnv

logger = logging.getLogger(__name__)

def resolve_device(device: str | torch.device | None, *, label: str | None = None) -> torch.device:
    """A usable torch device: None or "auto" -> CUDA when available, else the CPU. The one place devices are checked.

    Args:
        device: "auto", "cpu", "cuda", "cuda:N", "mps", a torch.device, or None.
        label: how errors name the value (default ``device='NAME'``; the CLI passes ``--device NAME``).

    Raises:
        ConfigError: for a malformed name or a device this machine lacks (one line, no traceback).
    """
    label = label or f"device={str(device)!r}"
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"{label}: not a torch device name (expected auto, cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{label}: CUDA is not available on this machine (torch {torch.__version__}); "
                              "use cpu or auto")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"{label}: only {torch.cuda.device_count()} CUDA device(s) visible")
    elif dev.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ConfigError(f"{label}: Apple MPS is not available on this machine; use cpu or auto")
    elif dev.type != "cpu":
        raise ConfigError(f"{label}: not supported here (expected auto, cpu, cuda, cuda:N or mps)")
    return dev


def pick_device(name: str, env: DistEnv) -> torch.device:
    """The training device (:func:`resolve_device`); under torchrun, "cuda" is ``cuda:LOCAL_RANK`` of each process.

    Raises:
        ConfigError: for an unknown or unavailable device, or MPS (the trainer runs on CPUs and CUDA).
    """
    device = resolve_device(name)
    if device.type == "mps":
        raise ConfigError(f"device={name!r}: training runs on cpu or cuda")
    if device.type == "cpu":
        return device
    index = device.index if device.index is not None else env.local_rank
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
