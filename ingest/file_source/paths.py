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


class PathsProvider:
    """Expands the configured globs, minus the excluded ones, into the regular files they match."""

    def __init__(self, patterns: list[str], exclude: list[str]) -> None:
        self.patterns = [_Pattern(p) for p in patterns]
        self._excluded = (
            re.compile("|".join(f"(?:{fnmatch.translate(ex)})" for ex in exclude)).match if exclude else None
        )
        self.missing: dict[str, str] = {}
        """Per pattern that matched no file in the last scan, why (``no such file``, ``a directory``…)."""

    def scan(self) -> dict[str, Found]:
        """Every regular file matched now, by path (the first pattern that matched it names its input)."""
        found: dict[str, Found] = {}
        missing: dict[str, str] = {}
        for index, pattern in enumerate(self.patterns):
            seen = _Seen()
            if pattern.literal:
                self._literal(pattern.expanded, index, found, seen)
            elif pattern.name_matches is not None:
                self._listing(pattern, index, found, seen)
            else:
                for path in glob.glob(pattern.expanded, recursive=True):
                    self._literal(path, index, found, seen)
            if not seen.files:
                missing[pattern.text] = seen.reason(pattern)
        self.missing = missing
        return found

    def _literal(self, path: str, index: int, found: dict[str, Found], seen: _Seen) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        if not stat_mode.S_ISREG(st.st_mode):
            seen.others += 1
            seen.directories += stat_mode.S_ISDIR(st.st_mode)
            return
        self._add(path, f"{st.st_dev}:{st.st_ino}", index, found, seen)

    def _listing(self, pattern: _Pattern, index: int, found: dict[str, Found], seen: _Seen) -> None:
        matches = pattern.name_matches
        assert matches is not None
        for directory in pattern.directories():
            try:
                dev = os.stat(directory or ".").st_dev
                entries = os.scandir(directory or ".")
            except OSError:
                continue
            with entries:
                for entry in entries:
                    name = entry.name
                    if not matches(name) or (name[0] == "." and not pattern.hidden):
                        continue
                    path = os.path.join(directory, name) if directory else name
                    try:
                        if entry.is_symlink():
                            self._literal(path, index, found, seen)
                        elif entry.is_file(follow_symlinks=False):
                            self._add(path, f"{dev}:{entry.inode()}", index, found, seen)
                        else:
                            seen.others += 1
                            seen.directories += entry.is_dir(follow_symlinks=False)
                    except OSError:
                        continue

    def _add(self, path: str, key: str, index: int, found: dict[str, Found], seen: _Seen) -> None:
        if self._excluded is not None and self._excluded(path):
            seen.excluded += 1
            return
        seen.files += 1
        if path not in found:
            found[path] = Found(path, key, index)


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
