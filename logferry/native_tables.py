"""The compiled chain's tables, generated from the Python declarations: ``python -m logferry.native_tables``.

- ``native/src/names.rs``: the static field names (``core/schema.py``, the internal keys and the
  processors' ``reads`` and ``writes``), so the Rust side names no field the Python side does not declare;
- ``native/src/default_chain.json``: the default pipeline's steps with their default options as the
  compiled chain is built from them, for the Rust unit tests (``cargo test``), which have no Python.

``tests/test_schema.py`` fails while a checked-in file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.keys import INTERNAL_KEYS
from core.processor import native_options
from core.schema import rust_names
from ingest.kafka_wire import SHIPPER_HOST, RestoreShipperHost
from logferry.stages import DEFAULT_ORDER, PROCESSORS

NATIVE_SRC = Path(__file__).resolve().parent.parent / "native" / "src"
NAMES_RS = NATIVE_SRC / "names.rs"
DEFAULT_CHAIN_JSON = NATIVE_SRC / "default_chain.json"
TEST_HOST = "host-a"
"""The host name of the default chain the Rust tests run (``add_metadata`` resolves one otherwise)."""


def names_rs() -> str:
    """The text of ``native/src/names.rs``."""
    extra: list[str] = [*sorted(INTERNAL_KEYS), SHIPPER_HOST]
    for cls in (*PROCESSORS.values(), RestoreShipperHost):
        if getattr(cls, "compiled", False):
            extra += [*cls.reads, *cls.writes]
    return rust_names(tuple(extra))


def default_chain_json() -> str:
    """The text of ``native/src/default_chain.json``."""
    steps = []
    for name in DEFAULT_ORDER:
        cls = PROCESSORS[name]
        config = cls.Config(host_name=TEST_HOST) if name == "add_metadata" else cls.Config()
        steps.append([name, native_options(cls(config))])
    return json.dumps({"steps": steps}, indent=1, sort_keys=False) + "\n"


def main() -> None:
    NAMES_RS.write_text(names_rs())
    DEFAULT_CHAIN_JSON.write_text(default_chain_json())
    print(f"wrote {NAMES_RS} and {DEFAULT_CHAIN_JSON}")


if __name__ == "__main__":
    main()
