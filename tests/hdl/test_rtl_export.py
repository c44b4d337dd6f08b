"""export(): the Verilog text and its path under clear names; str and Path output folders."""

from pathlib import Path

from amaranth.back import verilog

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl import export
from lowbit.hdl.int_mac import IntMac


def _mac():
    return IntMac(F.get("int4"), F.get("int4"), acc=FixedAccumulator(12, 0, "wrap"))


def test_export_gives_text_and_path(tmp_path):
    rtl = export(_mac(), name="doc_mac", out_dir=str(tmp_path / "rtl"))   # a str folder
    assert rtl.verilog_path == (tmp_path / "rtl" / "doc_mac.v").resolve()
    assert rtl.verilog_text == rtl.verilog_path.read_text()
    assert rtl.verilog_text == verilog.convert(_mac(), name="doc_mac", emit_src=False)
    assert "module doc_mac(" in rtl.verilog_text
    assert rtl.sidecar["name"] == "doc_mac" and rtl.sidecar["component"] == "IntMac"
    assert rtl.sidecar_path == rtl.verilog_path.with_suffix(".json")


def test_export_default_folder_is_named_by_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWBIT_BUILD", str(tmp_path))
    rtl = export(_mac(), name="doc_mac")
    assert rtl.folder == Path(tmp_path, "rtl", f"doc_mac-{rtl.digest}").resolve()
    assert export(_mac(), name="doc_mac") == rtl    # identical Verilog, same folder
