"""Go failures of a real program (``go/``, module ``shop``) logged by zap, two releases.

Run with ``python3 gen_go.py`` (Go on the PATH; the module fetches zap). Release 1 is the program as
committed, built under one root; release 2 is the same code with lines shifted (comment blocks and
blank lines inserted), built under another root. Recovered panics are logged with the goroutine's
``debug.Stack()``; returned errors by one handler, with zap's call-site ``stacktrace``. Each request
runs one scenario with random ids; the scenario's failing site is the line's root cause, written to
``go.truth`` by this driver (never read back from the log).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUESTS_PER_RELEASE = 300

SCENARIOS = {
    "index_panic": "go:orders.Lookup",
    "nil_map": "go:orders.Remember",
    "declined_panic": "go:payments.MustCharge",
    "nil_pointer": "go:users.Name",
    "atoi_error": "go:api.ParseQuantity",
    "not_found_error": "go:orders.Get",
    "json_error": "go:api.Decode",
}


def shift_lines(source: str, release: int, rng: random.Random) -> str:
    if release == 1:
        return source
    lines = source.splitlines()
    out = []
    for line in lines:
        out.append(line)
        if line.startswith("package "):
            out.extend(f"// release {release}: reformatted" for _ in range(rng.randint(3, 9)))
    shifted = []
    for line in out:
        if line.startswith("func "):
            shifted.extend([""] * rng.randint(1, 4))
        shifted.append(line)
    return "\n".join(shifted) + "\n"


def install(root: Path, release: int, rng: random.Random) -> Path:
    source = HERE / "go"
    for path in sorted(source.rglob("*")):
        target = root / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text()
        target.write_text(shift_lines(text, release, rng) if path.suffix == ".go" else text)
    binary = root / "shop"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=root, check=True)
    return binary


def main() -> None:
    rng = random.Random(19)
    lines: list[str] = []
    truth: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for release, root in ((1, Path(tmp) / "app"), (2, Path(tmp) / "srv" / "releases" / "shop-2")):
            binary = install(root, release, rng)
            scenarios = [rng.choice(sorted(SCENARIOS)) for _ in range(REQUESTS_PER_RELEASE)]
            done = subprocess.run(
                [str(binary), str(rng.randint(0, 10**6))],
                input="\n".join(scenarios) + "\n",
                capture_output=True,
                text=True,
                check=True,
            )
            out = done.stderr.splitlines()  # zap's production logger writes to stderr
            assert len(out) == len(scenarios), f"{len(out)} lines for {len(scenarios)} requests"
            lines += out
            truth += [SCENARIOS[s] for s in scenarios]
        shutil.rmtree(tmp, ignore_errors=True)
    (HERE / "go.log").write_text("\n".join(lines) + "\n")
    (HERE / "go.truth").write_text("\n".join(truth) + "\n")


if __name__ == "__main__":
    main()
