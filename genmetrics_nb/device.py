"""Device selection shared by every function that computes.

Every computing function takes ``device=`` and passes it through
:func:`resolve`, so ``"auto"`` means the same thing everywhere.
"""
from __future__ import annotations

import torch

__all__ = ["resolve"]


def resolve(device: str | torch.device | None = "auto") -> torch.device:
    """Turn a device specification into a :class:`torch.device`.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` (or None) picks ``cuda`` when a GPU is visible, else ``cpu``.
        Anything else is handed to :class:`torch.device` (``"cpu"``,
        ``"cuda"``, ``"cuda:1"``, ``"mps"``).

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the string names no device, or names CUDA on a machine without it.

    Examples
    --------
    >>> resolve("cpu")
    device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
            ) from exc
    else:
        raise TypeError(
            f"device must be a string or torch.device, got {type(device).__name__}; "
            "use 'auto', 'cpu' or 'cuda'"
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA but no GPU is visible; use device='auto' or 'cpu'"
        )
    return dev
