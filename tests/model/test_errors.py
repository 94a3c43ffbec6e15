"""One-line messages for every failure (`errors.one_line`, shared by the CLI and the GUI
worker; the worker's own failures are in tests/app/test_worker.py), and no traceback from
the CLI even for bugs."""

from swin_gui import cli
from swin_gui.errors import one_line
from swin_gui.images import ImageLoadError
from swin_gui.model.checkpoints import CheckpointError
from swin_gui.safe_write import ExportError


def test_user_errors_keep_their_message_on_one_line():
    assert one_line(ImageLoadError("x.png: not an image\n  details")) == "x.png: not an image"
    assert one_line(KeyError("unknown preset 'foo'")) == "unknown preset 'foo'"
    assert one_line(CheckpointError("bad keys")) == "bad keys"
    assert one_line(ExportError("out/a.png already exists")) == "out/a.png already exists"


def test_unexpected_errors_name_their_type():
    assert one_line(RuntimeError("boom")) == "RuntimeError: boom"
    assert one_line(RuntimeError("first line\n  second line")) == "RuntimeError: first line"
    assert one_line(ZeroDivisionError()) == "ZeroDivisionError"
    assert one_line(MemoryError()).startswith("out of memory")
    assert len(one_line(ValueError("v" * 1000))) == 300


def test_cli_internal_error_is_one_line_exit_1(monkeypatch, capsys):
    def broken(argv):
        raise RuntimeError("something broke")

    monkeypatch.setattr(cli, "run", broken)
    monkeypatch.delenv("SWIN_GUI_DEBUG", raising=False)
    assert cli.main(["inspect", "demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error: RuntimeError: something broke" in err
