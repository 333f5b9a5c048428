"""The paths provider: which files the configured globs match now, and their identities.

A scan lists each directory a glob names once (``os.scandir``) and takes a file's identity from its
directory entry (the inode it names, the directory's device), so a scan of 10,000 files makes no
``stat`` per file: only a file new to the source is looked at further. A symlink is followed with a
``stat``; a pattern with ``**`` in its last part falls back to ``glob.glob``. Matching is ``glob``'s:
``fnmatch`` per path part, names starting with a dot only for patterns that start with one.

What matched nothing is kept per pattern with the reason (missing, a directory, everything excluded),
for ``ingest`` to refuse and ``run`` to warn about.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat as stat_mode
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Found:
    """A regular file a pattern matched: its path, identity hint ``dev:ino`` and the pattern's index.

    The identity is the directory entry's: the descriptor opened on the path has the final word (a
    file replaced between the scan and the open has another).
    """

    path: str
    key: str
    input: int


class _Pattern:
    """One configured glob, split for the scan: the directories it names and the names it takes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.expanded = os.path.expanduser(text)
        directory, base = os.path.split(self.expanded)
        self.directory = directory
        self.base = base
        self.literal = not glob.has_magic(self.expanded)
        self.recursive_base = "**" in base
        self.name_matches: Callable[[str], object] | None = (
            re.compile(fnmatch.translate(base)).match if glob.has_magic(base) and not self.recursive_base else None
        )
        self.hidden = base.startswith(".")

    def directories(self) -> list[str]:
        if glob.has_magic(self.directory):
            return glob.glob(self.directory, recursive=True)
        return [self.directory]


SETTLED_SECONDS = 2.0
"""A directory listing is reused while the directory's mtime is unchanged and was at least this much
older than the listing: a change after it would then show in the mtime even where the filesystem
keeps whole seconds."""


@dataclass(slots=True)
class _Listing:
    """One directory as last listed for a pattern: what matched, and whether it may be reused."""

    mtime_ns: int
    reusable: bool
    entries: list[tuple[str, str]]  # (path, identity hint) of the regular files whose names matched
    links: list[str]  # matched names that are symlinks: looked at every time
    others: int
    directories: int


class PathsProvider:
    """Expands the configured globs, minus the excluded ones, into the regular files they match.

    A directory whose modification time has not changed since it was listed (files were neither
    created, removed nor renamed in it) is not listed again: a scan of an unchanged directory of
    10,000 files costs one ``stat``. ``changed`` says whether the last scan found anything that the
    one before had not.
    """

    def __init__(self, patterns: list[str], exclude: list[str]) -> None:
        self.patterns = [_Pattern(p) for p in patterns]
        self._excluded = (
            re.compile("|".join(f"(?:{fnmatch.translate(ex)})" for ex in exclude)).match if exclude else None
        )
        self.missing: dict[str, str] = {}
        """Per pattern that matched no file in the last scan, why (``no such file``, ``a directory``…)."""
        self.changed = True
        self._listings: dict[tuple[int, str], _Listing] = {}
        self._found: dict[str, Found] | None = None
        self._literals: dict[str, tuple[int, int, int] | None] = {}

    def scan(self) -> dict[str, Found]:
        """Every regular file matched now, by path (the first pattern that matched it names its input)."""
        plan: list[tuple[int, _Pattern, list[_Listing] | tuple[str, os.stat_result | None] | None]] = []
        self.changed = self._found is None
        listings: dict[tuple[int, str], _Listing] = {}
        literals: dict[str, tuple[int, int, int] | None] = {}
        for index, pattern in enumerate(self.patterns):
            if pattern.literal:
                st = _stat(pattern.expanded)
                literals[pattern.expanded] = None if st is None else (st.st_dev, st.st_ino, st.st_mode)
                plan.append((index, pattern, (pattern.expanded, st)))
            elif pattern.name_matches is None:
                self.changed = True
                plan.append((index, pattern, None))
            else:
                plan.append((index, pattern, self._directories(pattern, index, listings)))
        if (
            literals != self._literals
            or listings.keys() != self._listings.keys()
            or any(listing.links for listing in listings.values())
        ):
            self.changed = True
        self._listings, self._literals = listings, literals
        if not self.changed and self._found is not None:
            return self._found
        found: dict[str, Found] = {}
        missing: dict[str, str] = {}
        for index, pattern, how in plan:
            seen = _Seen()
            if isinstance(how, list):
                for listing in how:
                    seen.others += listing.others
                    seen.directories += listing.directories
                    for path, key in listing.entries:
                        self._add(path, key, index, found, seen)
                    for path in listing.links:
                        self._literal(path, _stat(path), index, found, seen)
            elif isinstance(how, tuple):
                self._literal(how[0], how[1], index, found, seen)
            else:
                for path in glob.glob(pattern.expanded, recursive=True):
                    self._literal(path, _stat(path), index, found, seen)
            if not seen.files:
                missing[pattern.text] = seen.reason(pattern)
        self.missing = missing
        self._found = found
        return found

    def _directories(self, pattern: _Pattern, index: int, listings: dict[tuple[int, str], _Listing]) -> list[_Listing]:
        """The listings of the directories ``pattern`` names, reused where unchanged."""
        result = []
        for directory in pattern.directories():
            try:
                st = os.stat(directory or ".")
            except OSError:
                continue
            listing = self._listings.get((index, directory))
            if listing is None or not listing.reusable or listing.mtime_ns != st.st_mtime_ns:
                listing = self._list(pattern, directory, st)
                if listing is None:
                    continue
                self.changed = True
            listings[(index, directory)] = listing
            result.append(listing)
        return result

    def _literal(self, path: str, st: os.stat_result | None, index: int, found: dict[str, Found], seen: _Seen) -> None:
        if st is None:
            return
        if not stat_mode.S_ISREG(st.st_mode):
            seen.others += 1
            seen.directories += stat_mode.S_ISDIR(st.st_mode)
            return
        self._add(path, f"{st.st_dev}:{st.st_ino}", index, found, seen)

    def _list(self, pattern: _Pattern, directory: str, st: os.stat_result) -> _Listing | None:
        matches = pattern.name_matches
        assert matches is not None
        prefix = os.path.join(directory, "") if directory else ""
        dev = st.st_dev
        listing = _Listing(st.st_mtime_ns, time.time() - st.st_mtime >= SETTLED_SECONDS, [], [], 0, 0)
        try:
            entries = os.scandir(directory or ".")
        except OSError:
            return None
        with entries:
            for entry in entries:
                name = entry.name
                if not matches(name) or (name[0] == "." and not pattern.hidden):
                    continue
                try:
                    if entry.is_symlink():
                        listing.links.append(prefix + name)
                    elif entry.is_file(follow_symlinks=False):
                        listing.entries.append((prefix + name, f"{dev}:{entry.inode()}"))
                    else:
                        listing.others += 1
                        listing.directories += entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
        return listing

    def _add(self, path: str, key: str, index: int, found: dict[str, Found], seen: _Seen) -> None:
        if self._excluded is not None and self._excluded(path):
            seen.excluded += 1
            return
        seen.files += 1
        if path not in found:
            found[path] = Found(path, key, index)


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


class _Seen:
    """What one pattern met in a scan, to say why it matched no file."""

    __slots__ = ("files", "excluded", "others", "directories")

    def __init__(self) -> None:
        self.files = self.excluded = self.others = self.directories = 0

    def reason(self, pattern: _Pattern) -> str:
        if self.excluded:
            return f"matches only excluded files ({self.excluded})"
        if pattern.literal:
            if self.directories:
                return f"is a directory (give a glob such as {os.path.join(pattern.text, '*.log')})"
            if self.others:
                return "is not a regular file"
            return "no such file"
        if self.directories and self.directories == self.others:
            return "matches only directories"
        if self.others:
            return "matches no regular file"
        return "matches no file"
