"""Where alert state, history and the evaluator's lease live, so that one evaluator runs per deployment
and a restart continues where the last one stopped.

- ``FileStateStore``: ``<data_dir>/alerts/`` (the embedded deployment: every process shares the data
  dir). ``state.json`` is replaced atomically; ``history.ndjson`` is appended; the lease is an
  exclusive ``flock`` on ``evaluator.lock``, which the kernel lets go when its process dies, so a
  standby ``serve`` takes over from a killed ``run`` at its next try.
- ``ElasticsearchStateStore``: one index (``<prefix>-alerts``) holding the state document, the
  history and a lease document (the Elasticsearch deployment: ``serve`` processes on several
  machines). The lease is taken and renewed with optimistic concurrency (``if_seq_no``), and lapses
  when its holder stops renewing it; clocks of the machines are assumed to agree within the lease.

History records are keyed by (rule, group, time, state): a step evaluated again after a crash writes
the same records, which read back once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import orjson

from alerts.state import AlertState, Transition


class Lease(Protocol):
    """The right to evaluate and notify for the whole deployment."""

    @property
    def held(self) -> bool: ...

    def acquire(self) -> bool:
        """Take or renew the lease; whether it is held now."""
        ...

    def release(self) -> None: ...


class StateStore(Protocol):
    def load(self) -> AlertState: ...
    def save(self, state: AlertState) -> None: ...
    def append_history(self, transitions: list[Transition]) -> None: ...
    def history(self) -> list[dict[str, Any]]: ...
    def lease(self, owner: str) -> Lease: ...


def history_record(t: Transition, seq: int) -> dict[str, Any]:
    """A transition as stored: ``seq`` orders the transitions of one step."""
    return {**t.to_dict(), "seq": seq}


def ordered_history(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each change once, in event-time order (a replayed step wrote the same records again)."""
    seen: dict[str, dict[str, Any]] = {}
    for r in records:
        seen.setdefault(f"{r['rule']}\x1f{r['group']}\x1f{r['at']}\x1f{r['state']}", r)
    return sorted(seen.values(), key=lambda r: (r["at"], r["seq"]))


class FileLease:
    """An exclusive ``flock`` on a file in the data dir, held while the process lives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        with self._lock:
            return self._acquire()

    def _acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        with self._lock:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None


class FileStateStore:
    """State, history and lease under one directory (``<data_dir>/alerts``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state_file = directory / "state.json"
        self.history_file = directory / "history.ndjson"

    def load(self) -> AlertState:
        try:
            data = orjson.loads(self.state_file.read_bytes())
        except FileNotFoundError:
            return AlertState()
        return AlertState.from_dict(data)

    def save(self, state: AlertState) -> None:
        """Replace the state file whole (write a temporary, fsync, rename): never half a state."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(state.to_dict()))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)

    def append_history(self, transitions: list[Transition]) -> None:
        if not transitions:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        seqs = _step_sequence(transitions)
        with open(self.history_file, "ab") as f:
            records = (history_record(t, s) for t, s in zip(transitions, seqs, strict=True))
            f.write(b"".join(orjson.dumps(r) + b"\n" for r in records))
            f.flush()
            os.fsync(f.fileno())

    def history(self) -> list[dict[str, Any]]:
        try:
            lines = self.history_file.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                records.append(orjson.loads(line))
            except orjson.JSONDecodeError:  # a torn last line of a crash: the step is evaluated again
                continue
        return ordered_history(records)

    def lease(self, owner: str) -> Lease:
        return FileLease(self.directory / "evaluator.lock")


def _step_sequence(transitions: list[Transition]) -> list[int]:
    """Each transition's place among those of its step."""
    seqs, last, n = [], None, 0
    for t in transitions:
        n = n + 1 if t.at == last else 0
        last = t.at
        seqs.append(n)
    return seqs


class ElasticsearchLease:
    """A lease document renewed with optimistic concurrency; another holder's unexpired lease is respected."""

    def __init__(self, client: Any, index: str, owner: str, seconds: float, ready: Callable[[], None]) -> None:
        self.client = client
        self.index = index
        self.owner = owner
        self.seconds = seconds
        self._ready = ready
        """Creates the index when missing: at the first try, so a cluster that is down delays nothing."""
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        from elasticsearch import ApiError, ConflictError, NotFoundError, TransportError

        now = time.time()
        doc = {"kind": "lease", "owner": self.owner, "expires": now + self.seconds}
        try:
            self._ready()
            try:
                found = self.client.get(index=self.index, id="lease")
            except NotFoundError:
                self.client.index(index=self.index, id="lease", document=doc, op_type="create", refresh=True)
                self._held = True
                return True
            held_by, expires = found["_source"].get("owner"), found["_source"].get("expires", 0)
            if held_by != self.owner and expires > now:
                self._held = False
                return False
            self.client.index(
                index=self.index,
                id="lease",
                document=doc,
                if_seq_no=found["_seq_no"],
                if_primary_term=found["_primary_term"],
                refresh=True,
            )
            self._held = True
        except ConflictError:
            self._held = False
        except (ApiError, TransportError):
            self._held = False  # cannot prove it is ours: stand by rather than evaluate twice
        return self._held

    def release(self) -> None:
        from elasticsearch import ApiError, TransportError

        if not self._held:
            return
        self._held = False
        try:
            found = self.client.get(index=self.index, id="lease")
            if found["_source"].get("owner") == self.owner:
                self.client.delete(
                    index=self.index,
                    id="lease",
                    if_seq_no=found["_seq_no"],
                    if_primary_term=found["_primary_term"],
                    refresh=True,
                )
        except (ApiError, TransportError):
            pass  # it lapses by itself


class ElasticsearchStateStore:
    """State, history and lease as documents of one index (``<prefix>-alerts``)."""

    MAPPINGS = {
        "dynamic": False,
        "properties": {
            "kind": {"type": "keyword"},
            "owner": {"type": "keyword"},
            "expires": {"type": "double"},
            "at": {"type": "long"},
            "seq": {"type": "integer"},
            "rule": {"type": "keyword"},
            "group": {"type": "keyword"},
            "state": {"type": "keyword"},
            "payload": {"type": "object", "enabled": False},
        },
    }

    def __init__(self, client: Any, index: str, lease_seconds: float, replicas: int = 0) -> None:
        self.client = client
        self.index = index
        self.lease_seconds = lease_seconds
        self.replicas = replicas
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        from elasticsearch import BadRequestError

        if not self.client.indices.exists(index=self.index):
            try:
                self.client.indices.create(
                    index=self.index,
                    settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
                    mappings=self.MAPPINGS,
                )
            except BadRequestError as exc:  # another process created it meanwhile
                if "resource_already_exists" not in str(exc):
                    raise
        self._ready = True

    def load(self) -> AlertState:
        from elasticsearch import NotFoundError

        self._ensure()
        try:
            found = self.client.get(index=self.index, id="state")
        except NotFoundError:
            return AlertState()
        return AlertState.from_dict(found["_source"]["payload"])

    def save(self, state: AlertState) -> None:
        self._ensure()
        self.client.index(index=self.index, id="state", document={"kind": "state", "payload": state.to_dict()})

    def append_history(self, transitions: list[Transition]) -> None:
        if not transitions:
            return
        self._ensure()
        body: list[dict[str, Any]] = []
        for t, seq in zip(transitions, _step_sequence(transitions), strict=True):
            doc_id = hashlib.sha1(t.key.encode()).hexdigest()
            body += [{"index": {"_index": self.index, "_id": doc_id}}, {"kind": "history", **history_record(t, seq)}]
        answer = self.client.bulk(operations=body, refresh="wait_for")
        if answer.get("errors"):
            failed = [i for i in answer["items"] if i["index"].get("error")]
            raise RuntimeError(f"history not stored: {failed[0]['index']['error']}")

    def history(self) -> list[dict[str, Any]]:
        self._ensure()
        self.client.indices.refresh(index=self.index)
        records: list[dict[str, Any]] = []
        after: list[Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            hits = self.client.search(
                index=self.index,
                query={"term": {"kind": "history"}},
                sort=[{"at": "asc"}, {"seq": "asc"}, {"rule": "asc"}, {"group": "asc"}, {"state": "asc"}],
                size=5000,
                **kwargs,
            )["hits"]["hits"]
            records += [{k: v for k, v in h["_source"].items() if k != "kind"} for h in hits]
            if len(hits) < 5000:
                return ordered_history(records)
            after = hits[-1]["sort"]

    def lease(self, owner: str) -> Lease:
        return ElasticsearchLease(self.client, self.index, owner, self.lease_seconds, self._ensure)
