from pathlib import Path

from ingest.registry import FileState, Registry


def state(offset: int, source_id: str = "1:2:ab") -> FileState:
    return FileState(path="/logs/a.log", offset=offset, source_id=source_id, fingerprint="ab", fingerprint_len=10)


def test_saved_registry_is_read_back_whole(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "registry.json")
    reg.put("1:2", state(0))
    reg.advance({("1:2", "1:2:ab"): 4096})
    reg.save()
    again = Registry(tmp_path / "registry.json")
    assert again.get("1:2") == reg.get("1:2")
    assert again.get("1:2").offset == 4096
    assert not (tmp_path / "registry.json.tmp").exists()


def test_position_of_an_older_incarnation_does_not_move_the_offset(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "registry.json")
    reg.put("1:2", state(0, source_id="1:2:ab:g1"))
    reg.advance({("1:2", "1:2:ab"): 9999})
    assert reg.get("1:2").offset == 0
    reg.advance({("1:2", "1:2:ab:g1"): 10})
    assert reg.get("1:2").offset == 10


def test_unknown_positions_are_ignored(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.json")
    reg.advance({("stdin", "stdin"): 10})
    assert reg.files == {}
