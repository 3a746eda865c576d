"""Writing a report file whole or not at all: a temporary file beside the target, renamed over it once complete.

The temporary file sits in the target's folder, so the final ``os.replace`` stays on one file system
and is atomic: a reader sees the old file or the new one, never half of one. On any error (or a
cancellation) the temporary file is removed and the target is left untouched; an ``OSError`` (no such
folder, no right to write, disk full) becomes a ``UserFacingError`` with a French message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ess_accompagnement.domain.errors import UserFacingError

logger = logging.getLogger(__name__)

DEFAULT_MESSAGE = "Impossible d'écrire le fichier : le dossier n'existe pas, n'est pas accessible en écriture " \
    "ou le disque est plein."


def write_bytes_atomically(out: Path | str, data: bytes, *, message: str = DEFAULT_MESSAGE,
                           error: type[UserFacingError] = UserFacingError, field: str = "out") -> None:
    """Write ``data`` to ``out`` whole or not at all (see ``write_atomically``)."""
    with write_atomically(out, message=message, error=error, field=field) as temporary:
        temporary.write_bytes(data)


@contextlib.contextmanager
def write_atomically(out: Path | str, *, message: str = DEFAULT_MESSAGE, error: type[UserFacingError] = UserFacingError,
                     field: str = "out") -> Iterator[Path]:
    """Yield a temporary path beside ``out`` to write to; rename it over ``out`` when the block ends normally.

    ``message``, ``error`` and ``field`` shape the French error raised when the file system refuses.
    """
    target = Path(out)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:  # no such folder, no right to write there
        raise error(message, field=field) from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        _flush_to_disk(temporary)
        os.replace(temporary, target)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # disk full, target read-only…: the environment's fault, said in French
            raise error(message, field=field) from exc
        raise
    logger.debug("file written atomically (%s)", target.suffix or "no suffix")


def _flush_to_disk(path: Path) -> None:
    """fsync the written file, so the rename never points at data still in the page cache after a crash."""
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())
