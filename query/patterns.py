"""Log patterns: the messages of a query mined into templates (variable tokens as ``<*>``), Drain-style.

Drain (He et al., ICWS 2017; Drain3, Loki's pattern ingester and Elastic's ``categorize_text`` build
on it) puts each line in a fixed-depth tree by its token count and first tokens, then joins it to the
most similar template of that leaf (similarity: the share of positions whose tokens are equal) or
starts a new one; where a joined line differs, the template gets ``<*>``. Here, as Drain3's masking
does, the obvious variables are masked before the tree sees them (a token with a digit, an e-mail
or ``user@host``, a path, a URL, a quoted string: ``parsers.fingerprint``'s rules, written again
here since ``query`` does not import ``parsers``), and two more steps make it fast and exact enough:

* a line whose masked form was seen before joins that line's template without a tree walk (most log
  lines repeat a masked form: the cost per line is then a split, a few dict lookups and a join);
* a template's ``<*>`` matches any token when a line is compared with it (Drain counts only equal
  tokens, so a template that became mostly ``<*>`` stops taking lines);
* at the end, templates that became equal are one pattern (Drain can split one template when its
  first lines disagree at a position the tree descends by).

Mining runs at query time over a bounded sample (the newest ``sample`` events matching the filters),
so any query can be mined and ingest pays nothing; ``bench/patterns.py`` measures accuracy against
Drain3 and the speed in lines per second.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from core.timefmt import iso_ms

VARIABLE = "<*>"
DEPTH = 4
"""Tree depth as Drain counts it: root, token count, then ``DEPTH - 2`` leading tokens."""
SIMILARITY = 0.6
"""A line joins the most similar template of its leaf when this share of its positions match (a template's
``<*>`` matches any token). Drain counts only equal tokens and joins at 0.4; counting the template's
variables as matches, and asking 0.6, keeps a template that became mostly ``<*>`` from splitting off
every line (bench/patterns.py: 0.81 → 0.97 grouping accuracy on the real programs' lines)."""
MAX_CHILDREN = 100
"""Children per inner node; past it, a new leading token goes under ``<*>``."""
_MASKED_TOKEN = re.compile(r"[0-9]|@|://|\\|^(?:\.{0,2}/|~/)")
_QUOTED = re.compile(r"(?<![\w])(['\"`])(?:(?!\1).)*\1(?![\w])")
_WORD = re.compile(r"\w+")


@dataclass
class Cluster:
    tokens: list[str]
    count: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    sample: str = ""
    members: list[int] = field(default_factory=list)

    def see(self, when: dt.datetime | None, line: str, index: int, keep_members: bool) -> None:
        self.count += 1
        if when is not None:
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when
                self.sample = line
        if not self.sample:
            self.sample = line
        if keep_members:
            self.members.append(index)


def _similarity(template: list[str], tokens: list[str]) -> tuple[float, int]:
    """(share of positions where the template's token is the line's or ``<*>``, count of ``<*>``):
    Drain's seqDist with its variables counted as matches, and its tie-break (fewer ``<*>`` wins)."""
    equal = wild = 0
    for a, b in zip(template, tokens, strict=True):
        if a == VARIABLE:
            wild += 1
        elif a == b:
            equal += 1
    return (equal + wild) / len(tokens), -wild


class Miner:
    """Drain over masked tokens; ``add`` a line at a time, ``clusters`` at the end."""

    def __init__(self, similarity: float = SIMILARITY, depth: int = DEPTH, keep_members: bool = False) -> None:
        self.similarity = similarity
        self.depth = depth
        self.keep_members = keep_members
        self._tree: dict[int, dict[str, Any]] = {}
        self._by_masked: dict[str, Cluster] = {}
        self._token_mask: dict[str, str] = {}
        self.clusters: list[Cluster] = []
        self._count = 0

    def _tokens(self, line: str) -> list[str]:
        if "'" in line or '"' in line or "`" in line:
            line = _QUOTED.sub(VARIABLE, line)
        masks = self._token_mask
        out = []
        for token in line.split():
            masked = masks.get(token)
            if masked is None:
                masked = VARIABLE if _MASKED_TOKEN.search(token) else token
                if len(masks) < 1_000_000:
                    masks[token] = masked
            out.append(masked)
        return out

    def add(self, line: str, when: dt.datetime | None = None) -> Cluster:
        index = self._count
        self._count += 1
        tokens = self._tokens(line)
        key = " ".join(tokens)
        cluster = self._by_masked.get(key)
        if cluster is None:
            cluster = self._place(tokens)
            self._by_masked[key] = cluster
        elif len(cluster.tokens) == len(tokens):
            self._generalize(cluster, tokens)
        cluster.see(when, line, index, self.keep_members)
        return cluster

    def _generalize(self, cluster: Cluster, tokens: list[str]) -> None:
        template = cluster.tokens
        for i, token in enumerate(tokens):
            if template[i] != token and template[i] != VARIABLE:
                template[i] = VARIABLE

    def _leaf(self, tokens: list[str]) -> list[Cluster]:
        node: dict[str, Any] = self._tree.setdefault(len(tokens), {})
        for token in tokens[: max(0, self.depth - 2)]:
            child = node.get(token)
            if child is None:
                if token != VARIABLE and len(node) >= MAX_CHILDREN:
                    token = VARIABLE
                    child = node.get(token)
                if child is None:
                    child = node[token] = {}
            node = child
        leaf: list[Cluster] = node.setdefault("", [])
        return leaf

    def _place(self, tokens: list[str]) -> Cluster:
        if not tokens:
            leaf = self._tree.setdefault(0, {}).setdefault("", [])
            if not leaf:
                leaf.append(Cluster([]))
                self.clusters.append(leaf[0])
            found: Cluster = leaf[0]
            return found
        leaf = self._leaf(tokens)
        best: Cluster | None = None
        best_score = (-1.0, -1)
        for cluster in leaf:
            score = _similarity(cluster.tokens, tokens)
            if score > best_score:
                best, best_score = cluster, score
        if best is not None and best_score[0] >= self.similarity:
            self._generalize(best, tokens)
            return best
        cluster = Cluster(list(tokens))
        leaf.append(cluster)
        self.clusters.append(cluster)
        return cluster

    def patterns(self) -> list[Cluster]:
        """The clusters, those whose templates became equal merged into one."""
        merged: dict[str, Cluster] = {}
        for cluster in self.clusters:
            if not cluster.count:
                continue
            template = " ".join(cluster.tokens)
            into = merged.get(template)
            if into is None:
                merged[template] = cluster
                continue
            into.count += cluster.count
            into.members += cluster.members
            if cluster.first is not None and (into.first is None or cluster.first < into.first):
                into.first = cluster.first
            if cluster.last is not None and (into.last is None or cluster.last > into.last):
                into.last, into.sample = cluster.last, cluster.sample
        return sorted(merged.values(), key=lambda c: (-c.count, " ".join(c.tokens)))


def pattern_query(tokens: list[str]) -> str:
    """A Lucene ``q`` finding the pattern's lines: each run of constant words as a phrase on ``message``."""
    phrases: list[str] = []
    run: list[str] = []
    for token in [*tokens, VARIABLE]:
        if token == VARIABLE:
            words = _WORD.findall(" ".join(run))
            if words:
                phrases.append('message:"' + " ".join(words) + '"')
            run = []
        else:
            run.append(token)
    return " AND ".join(phrases)


def mine(messages: list[tuple[dt.datetime, str]], total: int, limit: int) -> dict[str, Any]:
    """The API's answer: the top ``limit`` patterns of ``messages`` (the sample) out of ``total`` matching."""
    miner = Miner()
    for when, text in messages:
        miner.add(text, when)
    sampled = len(messages)
    out = []
    for cluster in miner.patterns()[:limit]:
        first = cluster.first or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        last = cluster.last or first
        out.append(
            {
                "template": " ".join(cluster.tokens),
                "count": cluster.count,
                "share": round(cluster.count / sampled, 6) if sampled else 0.0,
                "first_seen": iso_ms(first),
                "last_seen": iso_ms(last),
                "sample": cluster.sample,
                "query": pattern_query(cluster.tokens),
            }
        )
    return {"total": total, "sampled": sampled, "patterns": out}
