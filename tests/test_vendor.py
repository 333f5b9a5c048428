"""Vendored browser assets are what vendor.toml says, unchanged since scripts/vendor copied them, licence included."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _vendor_script():  # type: ignore[no-untyped-def]
    loader = importlib.machinery.SourceFileLoader("scripts_vendor", str(ROOT / "scripts" / "vendor"))
    spec = importlib.util.spec_from_loader("scripts_vendor", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ASSETS = tomllib.loads((ROOT / "vendor.toml").read_text())["asset"]


@pytest.mark.parametrize("asset", ASSETS, ids=[a["package"] for a in ASSETS])
def test_vendored_files_match_their_record(asset: dict) -> None:
    assert _vendor_script().check_one(asset) == []


def test_a_changed_vendored_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = _vendor_script()
    asset = ASSETS[0]
    copy = tmp_path / asset["dest"]
    copy.parent.mkdir(parents=True)
    shutil.copytree(ROOT / asset["dest"], copy)
    (copy / Path(asset["files"][0]).name).write_text("tampered")
    monkeypatch.setattr(vendor, "ROOT", tmp_path)
    assert any("changed since it was vendored" in p for p in vendor.check_one(asset))
