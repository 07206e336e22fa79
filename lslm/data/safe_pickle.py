"""Load `.pkl` files without letting them run code.

`pickle.load` imports and calls whatever the file names, so a hostile `.pkl` can run any command.
`safe_load` resolves only the globals needed to rebuild numpy arrays, numpy scalars, torch tensors and
plain containers; anything else raises `UnsafePickleError` before it is imported or called.
Torch tensors pickle their storage as a nested `torch.save` archive: that archive is opened with
`torch.load(weights_only=True)`, torch's own restricted loader, onto the CPU: a tensor saved from a GPU
names its device in that archive ("cuda:0"), which a machine without one could not restore.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

from lslm.errors import InvalidInputError, UnsafePickleError

_NUMPY = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
}
_TORCH = {("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"),
          ("torch._utils", "_rebuild_parameter")}
_PLAIN = {("collections", "OrderedDict"), ("_codecs", "encode")}  # _codecs.encode: protocol-2 bytes


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only array-reconstruction globals."""

    def __init__(self, file, path: str | Path | None = None):
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return self._storage_from_bytes
        if (module, name) in _NUMPY | _TORCH | _PLAIN:
            return super().find_class(module, name)
        if module == "torch" and name.endswith("Storage"):  # torch.FloatStorage, ... (legacy tensors)
            return super().find_class(module, name)
        raise UnsafePickleError(self.path, "pickle global", "numpy/torch array reconstruction only",
                                got=f"{module}.{name}")

    def _storage_from_bytes(self, data: bytes):
        """Stand-in for torch.storage._load_from_bytes, which calls torch.load(weights_only=False)."""
        import torch
        try:
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except pickle.UnpicklingError as e:
            raise UnsafePickleError(self.path, "torch storage", "tensor data only", got=str(e)[:200]) from e


def safe_load(path: str | Path):
    """Unpickle `path` with `SafeUnpickler`; truncated or corrupt files raise InvalidInputError."""
    if not Path(path).is_file():
        raise InvalidInputError(path, "file", "an existing file", got="no such file")
    with open(path, "rb") as f:
        try:
            return SafeUnpickler(f, path).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, RuntimeError,
                IndexError, KeyError) as e:
            raise InvalidInputError(path, "file", "a complete pickle", got=f"{type(e).__name__}: {e}") from e
