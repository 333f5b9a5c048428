"""The file source, split as Vector's is: ``paths`` (which files the globs match), ``fingerprint`` (what
makes a file the same one, a new generation or a copy), ``watcher`` (one open file read into lines),
``checkpointer`` (acknowledged positions into the registry on an interval) and ``source`` (the file
server: which files to open, when to look at them again, when to let them go). ``stdin`` is the
source of ``logferry ingest -``."""

from ingest.file_source.fingerprint import FINGERPRINT_MAX, file_key
from ingest.file_source.source import FileSource, NoInput
from ingest.file_source.stdin import StdinSource
from ingest.file_source.watcher import PARTIAL_TAG

__all__ = ["FINGERPRINT_MAX", "PARTIAL_TAG", "FileSource", "NoInput", "StdinSource", "file_key"]
