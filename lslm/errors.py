"""Typed errors. Every error about bad input names the file, the field and what was expected."""
from __future__ import annotations

from pathlib import Path


class LslmError(Exception):
    """Base class of every error lslm raises on purpose."""


class InvalidInputError(LslmError, ValueError):
    """Input that cannot be used: wrong shape, dtype, NaN/inf, missing key, truncated file, ...

    >>> InvalidInputError("clip.npz", "body_pose", "shape (T, 63)", got="(10, 62)")
    """

    def __init__(self, path: str | Path | None, field: str, expected: str, got: object = None):
        self.path = None if path is None else str(path)
        self.field = field
        self.expected = expected
        self.got = got
        where = f"{self.path}: " if self.path else ""
        tail = f", got {got}" if got is not None else ""
        super().__init__(f"{where}field '{field}': expected {expected}{tail}")


class UnsafePickleError(InvalidInputError):
    """A pickle asked for something other than array reconstruction."""


class _FileError(LslmError, ValueError):
    """An error whose message starts with the file it is about, when there is one (`path`)."""

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class ConfigError(_FileError):
    """Unknown or invalid configuration key (`path`: the config file, when it was read from one)."""


class CheckpointMismatchError(_FileError):
    """A checkpoint was made with a different tokenizer, codebook size or feature layout (`path`: the file
    that disagrees)."""


class MissingExtraError(LslmError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str):
        self.package, self.extra = package, extra
        super().__init__(f"{purpose} needs {package}, which is not installed: pip install \"lslm[{extra}]\"")
