"""Checks of values where they enter lslm: frame rates, counts, flags, names and arrays.

Each returns the value in the type lslm works with, or raises `InvalidInputError` naming the file (when
there is one) and the field. They check types instead of casting them: `2.5` is not a count, `"no"` is
not a flag, a complex or boolean array is not motion, and a list of digit strings is not a code sequence.
Called once at each boundary (a file read, a public function's arguments, a command line parsed into its
options); code behind the boundary trusts what it gets.
"""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from lslm.errors import ConfigError, InvalidInputError

# Frame rates lslm accepts. Sign and mocap data is 24-120 fps (up to 250 for some optical mocap); a rate
# outside this range is a unit mistake or a corrupt field, and resampling to or from it would make a clip
# of absurd length.
MIN_FPS, MAX_FPS = 1.0, 1000.0
NAME_MAX = 255  # bytes in one file name (Linux, macOS, Windows)

PathLike = str | Path | None


def check_fps(value: Any, path: PathLike = None, field: str = "fps") -> float:
    """A frame rate: a real number in [MIN_FPS, MAX_FPS] (not a bool, NaN or infinite)."""
    number = _real(value)
    if number is None or not MIN_FPS <= number <= MAX_FPS:
        raise InvalidInputError(path, field, f"a frame rate in [{MIN_FPS:g}, {MAX_FPS:g}] frames per second",
                                got=_show(value))
    return number


def check_int(value: Any, path: PathLike = None, field: str = "value", minimum: int | None = None,
              maximum: int | None = None) -> int:
    """An integer (Python or numpy, not a bool or a float) in [minimum, maximum]."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = int(value)
        ok = (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        bounds = "" if minimum is None and maximum is None else \
            f" >= {minimum}" if maximum is None else f" in [{minimum}, {maximum}]"
        raise InvalidInputError(path, field, f"an integer{bounds}", got=_show(value))
    return value


def check_number(value: Any, path: PathLike = None, field: str = "value", minimum: float | None = None,
                 maximum: float | None = None) -> float:
    """A finite real number (not a bool) in [minimum, maximum]."""
    number = _real(value)
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = "" if minimum is None and maximum is None else \
            f" >= {minimum}" if maximum is None else f" in [{minimum}, {maximum}]"
        raise InvalidInputError(path, field, f"a finite number{bounds}", got=_show(value))
    return number


def check_bool(value: Any, path: PathLike = None, field: str = "value") -> bool:
    """true or false (JSON booleans, Python bools), not a string or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(path, field, "true or false", got=_show(value))
    return bool(value)


def check_str(value: Any, path: PathLike = None, field: str = "value", empty: bool = False) -> str:
    """A string (non-empty unless `empty`) that is valid Unicode (no lone surrogate from a JSON escape)."""
    if not isinstance(value, str) or (not empty and not value):
        raise InvalidInputError(path, field, "a string" if empty else "a non-empty string", got=_show(value))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidInputError(path, field, "valid Unicode text", got=f"a lone surrogate at index {e.start}") from e
    return value


def check_file_name(name: str, path: PathLike = None, field: str = "id", suffix: str = "") -> str:
    """A name usable as one file name `name + suffix`: no path separators, no leading '.', no NUL or other
    control characters, at most NAME_MAX bytes."""
    check_str(name, path, field)
    bad = next((c for c in name if c in "/\\" or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None or name.startswith("."):
        raise InvalidInputError(path, field, "a file name (no '/', '\\', control characters or leading '.')",
                                got=repr(name)[:80])
    size = len((name + suffix).encode("utf-8"))
    if size > NAME_MAX:
        raise InvalidInputError(path, field, f"a file name of at most {NAME_MAX} bytes with {suffix!r}",
                                got=f"{size} bytes")
    return name


def read_json(path: str | Path, what: str = "a JSON file", kind: type | None = dict) -> Any:
    """The content of a UTF-8 JSON file, of type `kind` (an object by default; None: any). A missing,
    unreadable, non-UTF-8, empty or malformed file, or one holding another type (`null`, a list), raises
    InvalidInputError naming the file; `what` says what it should have been."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
    except OSError as e:
        raise InvalidInputError(path, "file", f"{what} (readable)", got=e.strerror or type(e).__name__) from e
    except UnicodeDecodeError as e:
        raise InvalidInputError(path, "file", f"{what} (UTF-8)", got=f"byte {e.object[e.start]:#04x} at {e.start}") from e
    except (json.JSONDecodeError, RecursionError) as e:
        got = e.msg if isinstance(e, json.JSONDecodeError) else "nesting too deep"
        raise InvalidInputError(path, "json", f"{what} (valid JSON)", got=got) from e
    if kind is not None and not isinstance(data, kind):
        raise InvalidInputError(path, "json", f"{what} (a JSON {'object' if kind is dict else kind.__name__})",
                                got=type(data).__name__)
    return data


def array_kind(value: Any) -> str:
    """numpy's dtype kind of an array or tensor ('f', 'i', 'u', 'b', 'c', 'U', 'O', ...) without copying."""
    if type(value).__module__.startswith("torch"):  # torch.Tensor, without importing torch
        dtype = value.dtype
        if dtype.is_complex:
            return "c"
        if dtype.is_floating_point:
            return "f"
        return "b" if str(dtype) == "torch.bool" else "i"
    return np.asarray(value).dtype.kind


def check_numeric(value: Any, path: PathLike = None, field: str = "array", integer: bool = False) -> Any:
    """`value` as given when it is a tensor or array, else as a numpy array, provided its elements are real
    numbers (integers only with `integer`): bool, complex, string, object (ragged lists) and date arrays
    are refused instead of cast."""
    if not type(value).__module__.startswith("torch"):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as e:  # ragged nesting
            raise InvalidInputError(path, field, "a rectangular numeric array", got=str(e)[:80]) from e
    kind = array_kind(value)
    allowed = "iu" if integer else "fiu"
    if kind not in allowed:
        what = "an integer array" if integer else "a real-valued numeric array"
        raise InvalidInputError(path, field, what, got=f"dtype {value.dtype}")
    return value


def _real(value: Any) -> float | None:
    """float(value) for a finite real number that is not a bool, else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


T = TypeVar("T")


def strict_from_dict(cls: type[T], data: Any, where: str) -> T:
    """`cls(**data)` for the dataclass `cls` from a mapping (a JSON object, an OmegaConf node); a value that is
    not a mapping, or a key `cls` does not have, is a ConfigError naming `where` and the known keys."""
    if not hasattr(data, "keys"):
        raise ConfigError(f"{where}: expected an object of fields, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**dict(data))
