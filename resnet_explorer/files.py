"""Reading and writing the user's files safely: the one rule every reader and writer follows.

Reading (`read_limited`): the path must be a regular file (a folder, a FIFO, a device node or a
socket is refused at once, without opening it, so nothing hangs); its size is checked with
``stat`` before reading, and at most ``limit + 1`` bytes are ever read (a file that grows, or a
``/proc`` file that reports size 0, is refused all the same).

Writing (`write_file`, `open_output`): only regular files are written.

* A path that does not exist is created (its folder must exist), with the usual permissions
  (``0666`` less the umask).
* An existing regular file is replaced only with ``force`` (``--force``), keeping its permissions;
  without it the write is refused and the file is left as it was.
* Device nodes (``/dev/full``, ``/dev/sda``), FIFOs, sockets and folders are refused, ``force``
  or not: they are never replaced by a regular file, never written to.
* Symbolic links are **followed**: the link stays a link and its final target is what the rules
  above apply to (a link to ``/dev/full`` is refused; a link to a regular file replaces that file
  with ``force``; a dangling link creates its target).

`write_file` writes the whole content to a temporary file beside the target and renames it over
the target, so a reader never sees a half-written file and a full disk leaves the old one intact.
Every refusal is a `FileError` (or the ``error`` class a caller passes) whose message names the
path and says what to do.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO

from resnet_explorer.errors import ResNetExplorerError


class FileError(ResNetExplorerError, ValueError):
    """A file that cannot be read or written as asked; the message names it and why."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- reading ----------------------------------------------------------------------------------


def read_limited(
    path: str | os.PathLike[str],
    limit: int,
    *,
    what: str = "file",
    error: type[Exception] = FileError,
) -> bytes:
    """The bytes of the regular file ``path``, refusing (``error``) anything over ``limit`` bytes
    before reading it, and anything that is not a regular file before opening it."""
    shown = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{what} {shown!r} does not exist") from None
    except OSError as exc:
        raise error(f"cannot read {what} {shown!r}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {shown!r} is {_kind(info.st_mode)}, not a file that can be read")
    if info.st_size > limit:
        raise error(f"{what} {shown!r} is {info.st_size:,} bytes; at most {limit:,} are accepted")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"cannot read {what} {shown!r}: {_reason(exc)}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {shown!r} is not a regular file")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what} {shown!r}: {_reason(exc)}") from None
    if len(data) > limit:
        raise error(f"{what} {shown!r} is larger than {limit:,} bytes, the most accepted")
    return data


def read_text_limited(
    path: str | os.PathLike[str],
    limit: int,
    *,
    what: str = "file",
    error: type[Exception] = FileError,
) -> str:
    """`read_limited`, decoded as UTF-8 (a file that is not UTF-8 text is ``error``)."""
    data = read_limited(path, limit, what=what, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {str(path)!r} is not UTF-8 text ({exc.reason})") from None


def is_regular_or_missing(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` (links followed) is a regular file or does not exist."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def check_regular(
    path: str | os.PathLike[str], *, what: str = "file", error: type[Exception] = FileError
) -> None:
    """Refuse (``error``) an existing ``path`` that is not a regular file (a FIFO, a device, a
    socket, a folder), without opening it; a missing path passes."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise error(f"cannot use {what} {str(path)!r}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {str(path)!r} is {_kind(info.st_mode)}, not a regular file")


# --- writing ----------------------------------------------------------------------------------


def check_output(
    path: str | os.PathLike[str],
    *,
    force: bool,
    what: str = "output file",
    error: type[Exception] = FileError,
) -> Path:
    """Check that ``path`` may be written under the rules of this module, before any work is
    done; returns the target (symbolic links resolved) that will be written."""
    shown = str(path)
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise error(f"cannot write {what} {shown!r}: {_reason(exc)}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{what} {shown!r} is a folder; give a file name inside it")
        if not stat.S_ISREG(info.st_mode):
            raise error(
                f"{what} {shown!r} is {_kind(info.st_mode)}; only regular files are written "
                "(never replaced, even with --force)"
            )
        if not force:
            raise error(f"{shown} exists; pass --force to overwrite it, or choose another file")
    folder = target.parent
    if not folder.is_dir():
        raise error(f"cannot write {what} {shown!r}: folder {str(folder)!r} does not exist")
    return target


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_file(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    force: bool,
    what: str = "output file",
    error: type[Exception] = FileError,
) -> Path:
    """Write ``data`` to ``path`` atomically under the rules of this module (see the module doc);
    returns the file written (the target of a symbolic link)."""
    target = check_output(path, force=force, what=what, error=error)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise error(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise error(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def open_output(
    path: str | os.PathLike[str],
    *,
    force: bool,
    what: str = "output file",
    error: type[Exception] = FileError,
) -> IO[str]:
    """Open ``path`` for writing text line by line (results files, event logs), under the rules
    of this module; the caller closes it. Written in place (a reader may follow it live)."""
    target = check_output(path, force=force, what=what, error=error)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    if not force:
        flags |= os.O_EXCL  # appeared since the check: refuse rather than overwrite
    try:
        fd = os.open(target, flags, 0o666)
    except FileExistsError:
        message = f"{path} exists; pass --force to overwrite it, or choose another file"
        raise error(message) from None
    except OSError as exc:
        raise error(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {str(path)!r} is not a regular file")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "w", encoding="utf-8")
