"""Shipping raw lines into Kafka: ``logferry ship --to kafka`` against rsyslog's omkafka, in the same run.

The same N generated lines (``logferry.sample.generate_lines``, over a few files) are shipped into
fresh topics of the running broker, one after the other:

(r) rsyslog: imfile reads the files, omkafka (librdkafka, ``acks=all``) sends each line as one record.
    The bench writes the config to a temp dir and runs ``rsyslogd -n`` as its own foreground process,
    stopped (SIGTERM) by the bench once the topic holds every line.
(l) ``logferry ship --to kafka --once``: the same files, one record per line with its source headers.

Each run is timed from the start of its process until the topic holds all N records (the topic's end
offsets, polled; exact), so start-up and the final acknowledgements count for both. CPU seconds of each
process (its threads included) are printed too: on a shared machine wall time also measures the
neighbours. Prints lines/s and the ratio l/r (goal: >= 0.5). Without rsyslog's Kafka output installed
(Debian: ``apt-get install rsyslog rsyslog-kafka``) it prints ``skipped: rsyslog-kafka not installed``
and still measures logferry. Topics are deleted afterwards. Needs ``scripts/services up kafka``.
Not a test; run by hand:

    python -m bench.kafka [--lines 500000] [--kafka HOST:PORT] [--compression lz4|none|gzip|zstd]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from bench.corpus import FILES, write_corpus

PARTITIONS = 6
OMKAFKA_PATHS = ("/usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so", "/usr/lib/rsyslog/omkafka.so")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    lines: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.lines / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.lines:>10,} lines {self.seconds:>8.1f} s {self.rate:>10,.0f} lines/s "
            f"{self.cpu_seconds:>7.1f} CPU s {self.cpu_seconds / self.lines * 1e6:>6.1f} CPU us/line"
        )


def longest_line(directory: Path) -> int:
    return max(len(line) for path in directory.iterdir() for line in path.read_bytes().split(b"\n"))


class TopicCounter:
    """The number of records in a topic: the sum of its partitions' end offsets (a fresh topic starts at 0)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        self.partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]

    def __call__(self) -> int:
        return sum(self.consumer.end_offsets(self.partitions).values())

    def close(self) -> None:
        self.consumer.close()


def cpu_seconds(pid: int) -> float:
    """User + system time of a live process and all its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_for_records(
    process: subprocess.Popen[bytes], count: Callable[[], int], want: int, timeout: float, name: str
) -> tuple[float, float]:
    """Seconds until the topic holds ``want`` records, and the CPU seconds the process used by then."""
    started = time.perf_counter()
    cpu = 0.0
    while True:
        if process.poll() is None:
            cpu = cpu_seconds(process.pid)
        got = count()
        if got >= want:
            return time.perf_counter() - started, cpu
        if process.poll() not in (None, 0):
            raise SystemExit(f"{name} exited {process.returncode} with {got:,} of {want:,} records in the topic")
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"{name}: only {got:,} of {want:,} records in the topic after {timeout:.0f}s")
        time.sleep(0.05)


def rsyslog_config(work: Path, logs: Path, bootstrap: str, topic: str, compression: str, max_line: int) -> Path:
    """imfile over the corpus into omkafka, each line's text alone as the record (no syslog header)."""
    work.mkdir(parents=True)
    config = work / "rsyslog.conf"
    codec = f'"compression.codec={compression}", ' if compression != "none" else ""
    config.write_text(
        f'global(workDirectory="{work}" maxMessageSize="{max(max_line + 1024, 8192)}")\n'
        'module(load="imfile")\n'
        'module(load="omkafka")\n'
        'template(name="line" type="string" string="%msg%")\n'
        f'input(type="imfile" file="{logs}/*.log" tag="app" ruleset="ship" freshStartTail="off")\n'
        'ruleset(name="ship") {\n'
        f'  action(type="omkafka" broker=["{bootstrap}"] topic="{topic}" template="line" partitions.auto="on"\n'
        f'         confParam=[{codec}"request.required.acks=-1", "linger.ms=5"])\n'
        "}\n"
    )
    return config


def run_rsyslog(
    root: Path, logs: Path, bootstrap: str, topic: str, lines: int, compression: str, timeout: float
) -> Result:
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    work = root / "rsyslog"
    config = rsyslog_config(work, logs, bootstrap, topic, compression, longest_line(logs))
    count = TopicCounter(bootstrap, topic)
    process = subprocess.Popen(
        [rsyslogd, "-n", "-f", str(config), "-i", str(work / "rsyslogd.pid")],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "stderr.log", "wb"),  # noqa: SIM115 - the process keeps it
    )
    try:
        seconds, cpu = wait_for_records(process, count, lines, timeout, "rsyslogd")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        count.close()
    return Result("(r) rsyslog imfile -> omkafka", lines, seconds, cpu)


def run_logferry(root: Path, logs: Path, bootstrap: str, topic: str, lines: int, timeout: float) -> Result:
    count = TopicCounter(bootstrap, topic)
    command = [sys.executable, "-m", "logferry", "--data-dir", str(root / "logferry")]
    command += ["ship", str(logs / "*.log"), "--to", "kafka", "--kafka", bootstrap, "--topic", topic, "--once"]
    stderr = root / "logferry.stderr"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(stderr, "wb"))  # noqa: SIM115
    try:
        seconds, cpu = wait_for_records(process, count, lines, timeout, "logferry ship")
        if process.wait(timeout) != 0:
            raise SystemExit(f"logferry ship exited {process.returncode}:\n{stderr.read_text()[-3000:]}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        count.close()
    return Result("(l) logferry ship --to kafka --once", lines, seconds, cpu)


def omkafka_installed() -> bool:
    return shutil.which("rsyslogd") is not None and any(Path(p).exists() for p in OMKAFKA_PATHS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument(
        "--compression",
        default=os.environ.get("LOGFERRY_KAFKA__COMPRESSION_TYPE", "lz4"),
        help="codec for both shippers: none, gzip, lz4 (logferry's default), zstd",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds each run may take at most")
    args = parser.parse_args()
    os.environ["LOGFERRY_KAFKA__COMPRESSION_TYPE"] = args.compression
    run_id = uuid.uuid4().hex[:8]
    topics = {run: f"bench-ship-{run}-{run_id}" for run in ("r", "l")}
    admin = KafkaAdminClient(bootstrap_servers=args.kafka)
    results: list[Result] = []
    try:
        admin.create_topics([NewTopic(t, num_partitions=PARTITIONS, replication_factor=1) for t in topics.values()])
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            size = write_corpus(root / "logs", args.lines)
            print(f"corpus: {args.lines:,} lines, {size / 1e6:,.0f} MB in {FILES} files; {PARTITIONS} partitions; "
                  f"compression {args.compression}", flush=True)  # fmt: skip
            if omkafka_installed():
                results.append(
                    run_rsyslog(
                        root, root / "logs", args.kafka, topics["r"], args.lines, args.compression, args.timeout
                    )
                )
                print(results[-1].line(), flush=True)
            else:
                print("(r) skipped: rsyslog-kafka not installed (Debian: apt-get install rsyslog rsyslog-kafka)")
            results.append(run_logferry(root, root / "logs", args.kafka, topics["l"], args.lines, args.timeout))
            print(results[-1].line(), flush=True)
    finally:
        with contextlib.suppress(Exception):  # a topic may not exist if a step failed
            admin.delete_topics(list(topics.values()))
        admin.close()
    if len(results) == 2:
        peer, ours = results
        print(
            f"ratio l/r: {ours.rate / peer.rate:.2f} in lines/s (goal >= 0.5), "
            f"{peer.cpu_seconds / ours.cpu_seconds:.2f} in CPU per line"
        )


if __name__ == "__main__":
    main()
