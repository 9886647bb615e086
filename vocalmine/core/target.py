"""The paper's vocal target: the half-wave-rectified spectral difference, in one place."""

from __future__ import annotations


def vocal_target(mixture, instrumental, gain=1.0):
    """Y_v = max(|X| − g·|Y_i|, 0), elementwise.

    Args:
        mixture: magnitudes |X|, a NumPy array or a torch tensor of any shape.
        instrumental: magnitudes |Y_i|, the same shape (or broadcastable).
        gain: g, the instrumental's gain (1.0 when ``instrumental`` is already scaled).

    Returns:
        The vocal target, the same type and shape as ``mixture``.
    """
    diff = mixture - gain * instrumental if gain != 1.0 else mixture - instrumental
    return diff.clamp(min=0) if hasattr(diff, "clamp") else diff.clip(min=0)
