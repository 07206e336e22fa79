"""Load `.pkl` files without letting them run code.

`pickle.load` imports and calls whatever the file names, so a hostile `.pkl` can run any command.
`safe_load` resolves only the globals needed to rebuild numpy arrays, numpy scalars, torch tensors and
plain containers; anything else raises `UnsafePickleError` before it is imported or called.
Torch tensors pickle their storage as a nested `torch.save` archive: that archive is opened with
`torch.load(weights_only=True)`, torch's own restricted loader, onto the CPU: a tensor saved from a GPU
names its device in that archive ("cuda:0"), which a machine without one could not restore.
Sizes are checked against the file before anything is allocated: no length field or array shape in a
pickle may claim more bytes than the file has (a 70-byte pickle cannot ask for a 9 TiB array).
"""
from __future__ import annotations

import io
import math
import pickle
import pickletools
from pathlib import Path
from typing import Any

import numpy as np

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

    def __init__(self, file, path: str | Path | None = None, max_bytes: int = 1 << 34):
        super().__init__(file)
        self.path = path
        self.max_bytes = max_bytes  # no array may be larger than the file it comes from

    def find_class(self, module: str, name: str) -> Any:
        """The global `module.name` if it rebuilds arrays or tensors (size-checked against the file), else
        UnsafePickleError."""
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return self._storage_from_bytes
        if name == "_reconstruct" and (module, name) in _NUMPY:
            return self._sized(super().find_class(module, name), lambda _subtype, shape, dtype, *_: (shape, dtype))
        if (module, name) in _NUMPY | _TORCH | _PLAIN:
            return super().find_class(module, name)
        if module == "torch" and name.endswith("Storage"):  # torch.FloatStorage, ... (legacy tensors)
            # Storage(n) allocates n elements (8 bytes at most each); Storage(sequence) holds what the file holds
            return self._sized(super().find_class(module, name),
                               lambda size=0, *_: ((size,), "float64") if isinstance(size, int) else None)
        raise UnsafePickleError(self.path, "pickle global", "numpy/torch array reconstruction only",
                                got=f"{module}.{name}")

    def _sized(self, build, shape_of):
        """`build` behind a check that the array it allocates (`shape_of(*args)` → (shape, dtype), or None
        when it allocates only what the pickle holds) fits in the file: a few bytes of pickle must not ask
        for terabytes."""
        def checked(*args):
            try:
                spec = shape_of(*args)
                if spec is not None:
                    shape, dtype = spec
                    dims = [int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,))]
                    nbytes = math.prod(dims) * np.dtype(dtype).itemsize
            except (TypeError, ValueError) as e:
                raise InvalidInputError(self.path, "pickle array", "a shape and dtype", got=repr(args)[:80]) from e
            if spec is not None and (min(dims, default=0) < 0 or nbytes > self.max_bytes):
                raise InvalidInputError(self.path, "pickle array", f"at most the file's {self.max_bytes} bytes",
                                        got=f"shape {tuple(dims)} ({nbytes} bytes)")
            return build(*args)
        return checked

    def _storage_from_bytes(self, data: bytes):
        """Stand-in for torch.storage._load_from_bytes, which calls torch.load(weights_only=False)."""
        import torch
        try:
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except pickle.UnpicklingError as e:
            raise UnsafePickleError(self.path, "torch storage", "tensor data only", got=str(e)[:200]) from e


def safe_load(path: str | Path) -> Any:
    """Unpickle `path` with `SafeUnpickler`; truncated or corrupt files raise InvalidInputError."""
    if not Path(path).is_file():
        raise InvalidInputError(path, "file", "an existing file", got="no such file")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InvalidInputError(path, "file", "a readable file", got=e.strerror) from e
    try:
        # Walk the opcodes first: the unpickler allocates what a length field claims before it reads,
        # pickletools reads first (a 20-byte file claiming a terabyte string is then only truncated).
        for _ in pickletools.genops(data):
            pass
        return SafeUnpickler(io.BytesIO(data), path, max_bytes=len(data)).load()
    except InvalidInputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, RuntimeError,
            IndexError, KeyError, OverflowError, MemoryError, RecursionError) as e:
        raise InvalidInputError(path, "file", "a complete pickle", got=f"{type(e).__name__}: {str(e)[:200]}") from e
