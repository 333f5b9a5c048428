"""Log patterns: grouping accuracy and speed of ``query.patterns`` against Drain3, on the same lines, same run.

Lines: ``bench/data/patterns.ndjson.gz``, written by real programs (uvicorn, httpx, urllib3, kafka-python,
the Elasticsearch client; ``python -m bench.patterns_corpus`` makes it), each with the template it was
logged from. Accuracy is LogPAI's grouping accuracy (Zhu et al., ICSE-SEIP 2019): a line counts as right
when the group a miner put it in holds exactly the lines of its true template. Speed: lines per second
over the corpus repeated to ``--lines`` lines (logs repeat; both miners see the same stream), per second
of this process's CPU time, so that other work on the machine does not count.

Needs drain3 (``pip install drain3``, or ``pip install -e '.[bench]'``).

    python -m bench.patterns [--lines 200000]
"""

from __future__ import annotations

import argparse
import gzip
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from pathlib import Path

import orjson

from query.patterns import Miner

DATA = Path(__file__).resolve().parent / "data" / "patterns.ndjson.gz"


def grouping_accuracy(predicted: list[Hashable], truth: list[str]) -> float:
    """LogPAI's grouping accuracy: the share of lines whose predicted group is exactly their true group."""
    truth_sizes = Counter(truth)
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, label in enumerate(predicted):
        members[label].append(index)
    right = 0
    for lines in members.values():
        labels = {truth[i] for i in lines}
        if len(labels) == 1 and truth_sizes[next(iter(labels))] == len(lines):
            right += len(lines)
    return right / len(truth)


def ours(lines: list[str]) -> list[Hashable]:
    miner = Miner()
    clusters = [miner.add(line) for line in lines]
    return [" ".join(cluster.tokens) for cluster in clusters]


# The masking of Drain3's example configuration (its README's drain3.ini): ids, IPs, sequences, hex, numbers.
DRAIN3_EXAMPLE_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
]


def drain3_miner(masked: bool) -> Callable[[list[str]], list[Hashable]]:
    def mine(lines: list[str]) -> list[Hashable]:
        from drain3 import TemplateMiner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig

        config = TemplateMinerConfig()
        config.profiling_enabled = False
        if masked:
            config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN3_EXAMPLE_MASKING]
        miner = TemplateMiner(config=config)
        return [miner.add_log_message(line)["cluster_id"] for line in lines]

    return mine


def timed(fn: Callable[[list[str]], list[Hashable]], lines: list[str]) -> tuple[list[Hashable], float]:
    """The result and the CPU seconds it took (CPU, not wall time: the machine is shared)."""
    started = time.process_time()
    result = fn(lines)
    return result, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000, help="Lines of the speed run (the corpus repeated).")
    args = parser.parse_args()
    rows = [orjson.loads(line) for line in gzip.decompress(DATA.read_bytes()).splitlines()]
    lines = [row["line"] for row in rows]
    truth = [row["template"] for row in rows]
    print(f"corpus: {len(lines)} lines of {len(set(truth))} templates written by real programs ({DATA.name})")
    results = {}
    miners = {"logferry": ours, "drain3": drain3_miner(False), "drain3+mask": drain3_miner(True)}
    for name, miner in miners.items():
        predicted, seconds = timed(miner, lines)
        results[name] = grouping_accuracy(predicted, truth)
        print(
            f"  {name:12} grouping accuracy {results[name]:.4f}  groups {len(set(predicted)):4}  "
            f"{len(lines) / seconds:>9,.0f} lines/s (one pass)"
        )
    best = max(results["drain3"], results["drain3+mask"])
    print(f"  accuracy logferry - best drain3: {results['logferry'] - best:+.4f}")
    stream = (lines * (args.lines // len(lines) + 1))[: args.lines]
    speeds = {}
    for name, miner in miners.items():
        _, seconds = timed(miner, stream)
        speeds[name] = len(stream) / seconds
        print(f"  {name:12} {speeds[name]:>9,.0f} lines/s over {len(stream):,} lines")
    print(
        f"  speed logferry / drain3: {speeds['logferry'] / speeds['drain3']:.1f}x, "
        f"/ drain3+mask: {speeds['logferry'] / speeds['drain3+mask']:.1f}x"
    )


if __name__ == "__main__":
    main()
