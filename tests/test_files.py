"""The one rule for user files (resnet_explorer.files): regular files only, size checked before
reading, never a device node or FIFO replaced, symbolic links followed, --force to overwrite."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from resnet_explorer.cli import main
from resnet_explorer.files import FileError, open_output, read_limited, write_file


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


@pytest.fixture
def char_device(tmp_path):
    """A character device of our own (the same as /dev/null), so no system file is at risk."""
    path = tmp_path / "null.json"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    return path


def _no_hang(fn, *args, **kwargs):
    """Run ``fn`` in a thread; fail (rather than hang the suite) if it blocks."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), f"{fn.__name__} blocked"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_reading_refuses_special_files_unopened(fifo, tmp_path):
    with pytest.raises(FileError, match="FIFO"):
        _no_hang(read_limited, fifo, 100)
    with pytest.raises(FileError, match="folder"):
        read_limited(tmp_path, 100)
    with pytest.raises(FileError, match="does not exist"):
        read_limited(tmp_path / "missing", 100)


def test_a_huge_file_is_refused_from_its_size_without_reading(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(4 * 1024**3)  # sparse: 4 GiB that take no disk and would take 4 GiB of RAM
    with pytest.raises(FileError, match=r"4,294,967,296 bytes; at most 100 are accepted"):
        read_limited(big, 100)
    small = tmp_path / "small.json"
    small.write_bytes(b"x" * 100)
    assert read_limited(small, 100) == b"x" * 100
    with pytest.raises(FileError, match="at most 99"):
        read_limited(small, 99)


def test_writing_new_replacing_and_refusing(tmp_path):
    target = tmp_path / "out.txt"
    write_file(target, "one", force=False)
    assert target.read_text() == "one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    target.chmod(0o640)
    with pytest.raises(FileError, match="exists; pass --force"):
        write_file(target, "two", force=False)
    assert target.read_text() == "one"
    write_file(target, "two", force=True)
    assert target.read_text() == "two" and stat.S_IMODE(target.stat().st_mode) == 0o640
    with pytest.raises(FileError, match="is a folder"):
        write_file(tmp_path, "x", force=True)
    with pytest.raises(FileError, match="does not exist"):
        write_file(tmp_path / "no" / "such" / "folder.txt", "x", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_special_files_are_never_replaced_even_with_force(fifo, char_device):
    for path, kind in ((fifo, "FIFO"), (char_device, "character device")):
        for force in (False, True):
            with pytest.raises(FileError, match=kind):
                _no_hang(write_file, path, "x", force=force)
            with pytest.raises(FileError, match=kind):
                _no_hang(open_output, path, force=force)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and stat.S_ISCHR(char_device.lstat().st_mode)


def test_symbolic_links_are_followed(tmp_path, char_device):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(FileError, match="--force"):
        write_file(link, "new", force=False)
    assert write_file(link, "new", force=True) == real
    assert link.is_symlink() and real.read_text() == "new"  # the link stays a link
    to_device = tmp_path / "dev-link"
    to_device.symlink_to(char_device)
    with pytest.raises(FileError, match="character device"):
        write_file(to_device, "x", force=True)
    assert to_device.is_symlink() and stat.S_ISCHR(char_device.stat().st_mode)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "created.txt")
    write_file(dangling, "made", force=False)
    assert (tmp_path / "created.txt").read_text() == "made" and dangling.is_symlink()


def test_dev_full_is_refused_and_left_a_device(capsys, tmp_path):
    for args in (
        ["library", "export", "--db", str(tmp_path / "lib.sqlite3"), "-o", "/dev/full"],
        ["report", "resnet20", "--no-library", "-o", "/dev/full"],
        ["diagram", "resnet20", "-o", "/dev/full", "--format", "dot"],
        ["explore", "examples/space_cifar.json", "--samples", "1", "--out", "/dev/full"],
    ):
        for force in ([], ["--force"]):
            code, out, err = cli(capsys, *args, *force)
            assert code == 2 and out == "", args
            assert err.startswith("error: ") and "/dev/full" in err and "device" in err, err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_cli_writers_agree_about_overwriting(capsys, tmp_path):
    for name, args in (
        ("d.dot", ["diagram", "resnet20", "-o"]),
        ("r.html", ["report", "resnet20", "--no-library", "-o"]),
        ("e.json", ["library", "export", "--db", str(tmp_path / "lib.sqlite3"), "-o"]),
        ("x.jsonl", ["explore", "examples/space_cifar.json", "--samples", "1", "--out"]),
    ):
        out = tmp_path / name
        out.write_text("precious")
        code, _, err = cli(capsys, *args, str(out))
        assert code == 2 and "exists; pass --force" in err, name
        assert out.read_text() == "precious"
        code, _, err = cli(capsys, *args, str(out), "--force")
        assert code == 0, err
        assert out.read_text() != "precious"


def test_cli_readers_refuse_fifos_and_huge_files_at_once(capsys, tmp_path, fifo):
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(4 * 1024**3)
    for args in (
        ["design", "{}"],
        ["explore", "{}", "--samples", "1"],
        ["library", "import", "{}", "--db", str(tmp_path / "lib.sqlite3")],
    ):
        for path, message in ((fifo, "FIFO"), (big, "4,294,967,296 bytes")):
            argv = [a.replace("{}", str(path)) for a in args]
            code, out, err = _no_hang(cli, capsys, *argv)
            assert code == 2 and out == "" and message in err, (argv, err)
    assert not (tmp_path / "lib.sqlite3").exists()
