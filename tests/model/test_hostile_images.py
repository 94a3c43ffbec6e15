"""Hostile image paths (issue 15, part 2): a character device (/dev/zero, /dev/urandom) or a
FIFO given as an image is refused as "not a regular file" from its metadata, and loading a
FIFO never blocks, even when nothing ever writes to it."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from swin_gui.images import ImageLoadError, load_image

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


def load_within(path: Path, seconds: float = 10.0) -> BaseException | None:
    """load_image(path) in a daemon thread; fails the test if it is still reading later."""
    outcome: list[BaseException | None] = []

    def work():
        try:
            load_image(path)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"load_image({path}) still blocked after {seconds} s"
    return outcome[0]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_character_devices_are_not_regular_files(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    error = load_within(Path(device))
    assert isinstance(error, ImageLoadError)
    assert str(error) == f"{Path(device).name}: not a regular file (a character device)"


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)  # no writer ever opens it: a plain open() for reading would block
    error = load_within(fifo)
    assert isinstance(error, ImageLoadError)
    assert str(error) == "photo.png: not a regular file (a FIFO (named pipe))"


def test_a_symlink_to_a_device_is_refused_too(tmp_path):
    link = tmp_path / "cat.png"
    link.symlink_to("/dev/zero")
    error = load_within(link)
    assert isinstance(error, ImageLoadError) and "not a regular file" in str(error)


def test_a_file_swapped_for_a_fifo_after_the_check_does_not_hang(tmp_path, monkeypatch):
    """The open itself is non-blocking and re-checked on the open file."""
    import swin_gui.images as images

    fifo = tmp_path / "late.png"
    os.mkfifo(fifo)
    monkeypatch.setattr(images, "_check_file", lambda path, label: None)  # the race
    error = load_within(fifo)
    assert isinstance(error, ImageLoadError) and "not a regular file" in str(error)


def test_empty_regular_file_still_says_empty(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    error = load_within(empty)
    assert isinstance(error, ImageLoadError) and str(error) == "empty.png: empty file (0 bytes)"
