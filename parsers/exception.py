"""Read an exception's type, message and frames from the structure of the stack its runtime printed.

A name's suffix says nothing about being an exception (``PaymentDeclined``, ``DoesNotExist``,
``NotFound``, ``StopIteration``): where the type sits in a stack does. Each runtime prints it in one
place, and that is where it is read:

* **Python**: ``Traceback (most recent call last):``, ``File "…", line N, in f`` frames (most recent
  last), then the exception line ``module.Type: message`` (the first unindented line after the
  header). Chained exceptions come cause first, separated by "The above exception was the direct
  cause …" / "During handling of the above exception …": the raised one is the last.
* **JavaScript** (V8): the header ``Name: message`` (or ``Name [CODE]: message``) before the first
  ``    at f (file:line:col)`` frame (most recent first).
* **Java**: ``pkg.Type: message`` then ``\\tat pkg.Class.method(File.java:N)`` frames, then
  ``Caused by: …`` sections (each a cause of the one before).
* **Go**: ``panic: message`` (or ``fatal error: …``), then the panicking goroutine's frames as
  ``pkg.func(args)`` / ``\\tfile.go:N +0x…`` pairs; stacks without a panic line (``debug.Stack()``,
  zap's ``stacktrace``, pkg/errors' ``%+v``) are the same pairs.

Everything here is plain string work over explicit ASCII character classes (no regex), because the
compiled chain reads stacks with a Rust twin (``native/src/exception.rs``) that must give the same
answer byte for byte; ``tests/parsers/exception_vectors.json`` holds the cases both check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

WS = " \t\r\n\x0b\x0c"
MAX_LINES = 2000
"""Lines of a stack read at most (a stack of 100k lines costs no more than one of 2000)."""
MAX_FRAMES = 256
"""Frames kept per exception."""
MAX_CHAIN = 8
"""Exceptions of a chain kept (the raised one and its causes)."""

PY_HEADER = "Traceback (most recent call last):"
PY_CAUSE = "The above exception was the direct cause of the following exception:"
PY_CONTEXT = "During handling of the above exception, another exception occurred:"
JAVA_CAUSE = "Caused by: "
JAVA_LIBRARIES = (
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
    "kotlin.",
    "kotlinx.",
    "scala.",
    "org.junit.",
    "junit.",
    "org.springframework.",
    "org.apache.",
    "org.hibernate.",
    "org.eclipse.jetty.",
    "io.netty.",
    "reactor.",
    "com.fasterxml.",
    "com.google.",
)
"""Class-name prefixes of the JDK and the frameworks most stacks pass through: library frames."""
SUFFIXES = ("Error", "Exception", "Fault", "Interrupt", "Exit", "Iteration", "Warning")
"""A bare message names a type only by one of these suffixes (there is no structure to go by)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame, without line numbers or addresses: what stays the same across releases."""

    module: str
    """Python/JS: the file's last two path components; Java: the class; Go: the package path."""
    function: str
    library: bool
    """Runtime or third-party code (site-packages, node_modules, GOROOT, module cache, the JDK)."""


@dataclass(frozen=True, slots=True)
class Raised:
    """One exception of a chain: its type (None when the runtime prints none), message and frames,
    the frame that raised first."""

    type: str | None
    message: str
    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class Stack:
    """A parsed stack: the runtime that printed it and its chain, the raised exception first, then
    the exception that caused it, and so on."""

    language: str
    chain: tuple[Raised, ...]


def _strip(text: str) -> str:
    return text.strip(WS)


def _is_name_char(c: str) -> bool:
    """Identifier characters: ASCII letters, digits, ``_`` and ``$``, and anything beyond ASCII (so
    Unicode names count without asking Unicode tables that Python and Rust do not share)."""
    if not c.isascii():
        return True
    return c.isalnum() or c == "_" or c == "$"


def _is_type_name(text: str, extra: str = "") -> bool:
    """Dotted identifiers (``shop.errors.PaymentDeclined``); ``extra`` lists more allowed characters."""
    if not text or text[0] == "." or text[-1] == "." or text[0].isascii() and text[0].isdigit():
        return False
    for c in text:
        if not (_is_name_char(c) or c == "." or c in extra):
            return False
    return ".." not in text


def _lines(text: str) -> list[str]:
    """The text's lines (``\\n``; a ``\\r`` before it dropped), at most ``MAX_LINES``."""
    lines = text.split("\n", MAX_LINES)[:MAX_LINES]
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _indented(line: str) -> bool:
    return line[:1] in (" ", "\t")


def _split_type(line: str, extra: str = "") -> tuple[str | None, str]:
    """``Type: message`` → (Type, message); ``Type`` → (Type, ""); anything else → (None, line)."""
    head, colon, rest = line.partition(":")
    if colon:
        if _is_type_name(head, extra):
            return head, _strip(rest)
        return None, _strip(line)
    stripped = _strip(line)
    if _is_type_name(stripped, extra):
        return stripped, ""
    return None, stripped


def _joined(message: str, rest: list[str]) -> str:
    """A message and the lines after its first (a multi-line message), stripped as one text."""
    more = "\n".join(rest)
    return _strip(message + "\n" + more) if more else message


def _last_components(path: str, count: int = 2) -> str:
    """The last ``count`` components of a path (``/srv/app/shop/pay.py`` → ``shop/pay.py``); a
    directory component with a digit (a release or build directory) reads ``<*>``."""
    parts = [part for part in path.replace("\\", "/").split("/") if part]
    kept = parts[-count:]
    return "/".join(
        "<*>" if i < len(kept) - 1 and any("0" <= c <= "9" for c in part) else part for i, part in enumerate(kept)
    )


def _drop_addresses(name: str) -> str:
    """``/0x7f…`` addresses out of a generated name (a Java lambda class)."""
    while True:
        at = name.find("/0x")
        if at < 0:
            return name
        end = at + 3
        while end < len(name) and name[end] in "0123456789abcdefABCDEF":
            end += 1
        name = name[:at] + name[end:]


def _drop_digits_after(name: str, marker: str) -> str:
    """``$$Lambda$17`` → ``$$Lambda``: a counter the JVM assigns in loading order."""
    start = 0
    while True:
        at = name.find(marker, start)
        if at < 0:
            return name
        end = at + len(marker)
        digits = end
        while digits < len(name) and "0" <= name[digits] <= "9":
            digits += 1
        name = name[:end] + name[digits:]
        start = end


# ----------------------------------------------------------------------------------------------- Python


def _python_library(path: str) -> bool:
    if path.startswith("<"):
        return True
    normal = path.replace("\\", "/")
    if "/site-packages/" in normal or "/dist-packages/" in normal:
        return True
    at = normal.find("/lib/python")
    return at >= 0 and at + 11 < len(normal) and "0" <= normal[at + 11] <= "9"


def _python_frame(line: str) -> Frame | None:
    """``  File "/app/shop/pay.py", line 12, in charge`` (loguru marks one frame ``> File``)."""
    text = _strip(line)
    if text.startswith("> "):
        text = _strip(text[2:])
    if not text.startswith('File "'):
        return None
    end = text.find('", line ', 6)
    if end < 0:
        return None
    path = text[6:end]
    _, found, function = text[end:].partition(", in ")
    return Frame(_last_components(path), _strip(function) if found else "", _python_library(path))


def _python_segment(lines: list[str]) -> Raised:
    """One ``Traceback`` section (header excluded): frames, then the exception text."""
    frames: list[Frame] = []
    at = 0
    while at < len(lines) and _indented(lines[at]):
        frame = _python_frame(lines[at])
        if frame is not None and len(frames) < MAX_FRAMES:
            frames.append(frame)
        at += 1
    text = [line for line in lines[at:]]
    while text and not _strip(text[-1]):
        text.pop()
    if not text:
        return Raised(None, "", tuple(reversed(frames)))
    kind, message = _split_type(text[0], "<>")
    return Raised(kind, _joined(message, text[1:]), tuple(reversed(frames)))


def _parse_python(lines: list[str], first: int) -> Stack:
    sections: list[list[str]] = []
    current: list[str] | None = None
    for line in lines[first:]:
        stripped = _strip(line)
        if stripped == PY_HEADER:
            current = []
            sections.append(current)
        elif stripped in (PY_CAUSE, PY_CONTEXT):
            current = None
        elif current is not None:
            current.append(line)
    chain = [_python_segment(section) for section in reversed(sections)]
    return Stack("python", tuple(chain[:MAX_CHAIN]))


# ---------------------------------------------------------------------------------------------- Node.js


def _matching_open(text: str) -> int:
    """The index of the ``(`` opening the group the text's last ``)`` closes; -1 when none does."""
    last = text.rfind("(")
    if last >= 0 and ")" not in text[last + 1 : -1]:
        return last  # nothing nested: the usual frame, without a walk per character
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _js_frame(text: str) -> Frame:
    """``at [async ][new ]f (file:line:col)`` or ``at file:line:col`` (``at `` already removed; an
    uncaught error's last frame ends `` {`` when Node prints the error's own properties after it)."""
    if text.endswith(" {"):
        text = _strip(text[:-2])
    function = ""
    location = text
    if text.endswith(")"):
        opening = _matching_open(text)
        if opening >= 0:
            function = _strip(text[:opening])
            location = text[opening + 1 : -1]
    for prefix in ("async ", "new "):
        if function.startswith(prefix):
            function = function[len(prefix) :]
    alias = function.find(" [as ")
    if alias >= 0:
        function = function[:alias]
    if location.startswith("file://"):
        location = location[7:]
    # file:line:col → file
    for _ in range(2):
        head, colon, tail = location.rpartition(":")
        if colon and tail and all("0" <= c <= "9" for c in tail):
            location = head
    library = (
        location.startswith("node:")
        or location.startswith("internal/")
        or "node_modules/" in location.replace("\\", "/")
        or "/" not in location.replace("\\", "/")
    )
    return Frame(_last_components(location), _drop_addresses(function), library)


def _parse_js(lines: list[str], first_frame: int) -> Stack:
    header = [line for line in lines[:first_frame]]
    while header and not _strip(header[0]):
        header.pop(0)
    frames: list[Frame] = []
    for line in lines[first_frame:]:
        text = _strip(line)
        if not text.startswith("at ") or not _indented(line):
            if frames and text:
                break
            continue
        if len(frames) < MAX_FRAMES:
            frames.append(_js_frame(_strip(text[3:])))
    if not header:
        return Stack("javascript", (Raised(None, "", tuple(frames)),))
    kind, message = _split_js_header(header[0])
    return Stack("javascript", (Raised(kind, _joined(message, header[1:]), tuple(frames)),))


def _split_js_header(line: str) -> tuple[str | None, str]:
    """``TypeError: x``, ``Error [ERR_X]: x`` (Node's coded errors: the code is not the type)."""
    head, colon, rest = line.partition(":")
    bracket = head.find(" [")
    name = head[:bracket] if bracket > 0 and head.endswith("]") else head
    if colon and _is_type_name(name):
        return name, _strip(rest)
    if not colon and _is_type_name(_strip(name)):
        return _strip(name), ""
    return None, _strip(line)


# ------------------------------------------------------------------------------------------------- Java


def _java_frame(text: str) -> Frame | None:
    """``com.x.Pool.get(Pool.java:42)`` (``at `` removed); a module prefix (``java.base/``) or a class
    loader's (``app//``) is dropped."""
    if not text.endswith(")"):
        return None
    paren = text.find("(")
    if paren <= 0 or " " in text[:paren]:
        return None
    qualified = text[:paren]
    slash = qualified.rfind("/")
    if slash >= 0:
        qualified = qualified[slash + 1 :]
    cls, dot, method = qualified.rpartition(".")
    if not dot:
        return None
    cls = _drop_digits_after(_drop_digits_after(_drop_addresses(cls), "$$Lambda$"), "$Proxy")
    library = (
        text[:paren].find("/") >= 0
        and text[:paren].split("/")[0].startswith(("java.", "jdk."))
        or any(cls.startswith(prefix) for prefix in JAVA_LIBRARIES)
    )
    return Frame(cls, method, library)


def _is_java_frame_line(line: str) -> bool:
    if not _indented(line):
        return False
    text = _strip(line)
    return text.startswith("at ") and _java_frame(text[3:]) is not None


def _parse_java(lines: list[str]) -> Stack:
    chain: list[Raised] = []
    header: list[str] = []
    frames: list[Frame] = []
    in_frames = False
    suppressed_indent = -1

    def close() -> None:
        if header or frames:
            text = header[0] if header else ""
            if text.startswith("Exception in thread "):
                quote = text.find('" ', 21)
                text = text[quote + 2 :] if quote >= 0 else text
            kind, message = _split_type(text)
            chain.append(Raised(kind, _joined(message, header[1:]), tuple(frames)))

    for line in lines:
        text = _strip(line)
        indent = len(line) - len(line.lstrip(" \t"))
        if suppressed_indent >= 0:
            if indent > suppressed_indent or not text:
                continue
            suppressed_indent = -1
        if not text:
            continue
        if text.startswith("Suppressed: ") and _indented(line):
            suppressed_indent = indent
            continue
        if text.startswith(JAVA_CAUSE) and not _indented(line):
            close()
            header, frames, in_frames = [text[len(JAVA_CAUSE) :]], [], False
            continue
        if _indented(line) and text.startswith("at "):
            frame = _java_frame(text[3:])
            if frame is not None:
                in_frames = True
                if len(frames) < MAX_FRAMES:
                    frames.append(frame)
                continue
        if _indented(line) and text.startswith("...") and text.endswith(" more"):
            continue
        if not in_frames:
            header.append(text)
    close()
    return Stack("java", tuple(chain[:MAX_CHAIN]))


# --------------------------------------------------------------------------------------------------- Go


def _go_function(line: str) -> tuple[str, str] | None:
    """``github.com/a/b/pay.(*Charger).Charge(0xc0, …)`` → (``github.com/a/b/pay``, ``(*Charger).Charge``);
    ``panic({…})`` → ("", ``panic``)."""
    text = _strip(line)
    if text.endswith(")"):
        opening = _matching_open(text)
        if opening >= 0:
            text = text[:opening]
    if not text or " " in text:
        return None
    slash = text.rfind("/")
    dot = text.find(".", slash + 1)
    if dot < 0:
        return ("", text) if slash < 0 else None
    return text[:dot], text[dot + 1 :]


def _is_go_location(line: str) -> bool:
    """``\\t/app/main.go:57`` or ``\\t/app/main.go:57 +0x1d``."""
    if not line.startswith("\t"):
        return False
    text = _strip(line)
    space = text.find(" +0x")
    if space >= 0:
        text = text[:space]
    at = text.rfind(".go:")
    return at > 0 and at + 4 < len(text) and all("0" <= c <= "9" for c in text[at + 4 :])


def _go_library(package: str, function: str, location: str) -> bool:
    if not package:
        return True  # panic(…) and other builtins
    if package == "runtime" or package.startswith("runtime/"):
        return True
    path = _strip(location).replace("\\", "/")
    if "/pkg/mod/" in path or "/vendor/" in path:
        return True
    first = package.split("/")[0]
    return "." not in first and "/src/" + package + "/" in path


def _parse_go(lines: list[str]) -> Stack:
    panics: list[tuple[str, str]] = []
    message_lines: list[str] = []
    frames: list[Frame] = []
    started = False
    i = 0
    while i < len(lines):
        line = lines[i]
        text = _strip(line)
        if i + 1 < len(lines) and not line.startswith("\t") and _is_go_location(lines[i + 1]):
            named = _go_function(line)
            if named is not None:
                started = True
                package, function = named
                if not (function.startswith("created by ") or package.startswith("created by ")) and (
                    len(frames) < MAX_FRAMES
                ):
                    frames.append(Frame(package, function, _go_library(package, function, lines[i + 1])))
                i += 2
                continue
        if started and not text:
            break  # the next goroutine
        if not started:
            if text.startswith("panic: ") or text.startswith("fatal error: "):
                kind = "panic" if text.startswith("panic: ") else "fatal error"
                message = text[len(kind) + 2 :]
                if message.endswith(" [recovered]"):
                    message = message[: -len(" [recovered]")]
                panics.append((kind, message))
            elif text.startswith("goroutine ") and text.endswith(":"):
                started = True
            elif not panics and text:
                message_lines.append(text)
        i += 1
    # Frames above the last panic(…) ran after it: a deferred function that recovered it (and maybe
    # logged debug.Stack()), or one that panicked again, which then raised the last panic printed.
    cut = -1
    for at in range(len(frames) - 1, -1, -1):
        frame = frames[at]
        if (frame.module == "" and frame.function == "panic") or (
            frame.module == "runtime" and frame.function == "gopanic"
        ):
            cut = at
            break
    if not panics:
        below = frames[cut + 1 :] if cut >= 0 else frames
        return Stack("go", (Raised(None, _strip("\n".join(message_lines)), tuple(below)),))
    if len(panics) > 1 and cut >= 0:
        kind, message = panics[-1]
        first_kind, first_message = panics[0]
        return Stack(
            "go",
            (
                Raised(kind, message, tuple(frames[:cut])),
                Raised(first_kind, first_message, tuple(frames[cut + 1 :])),
            ),
        )
    kind, message = panics[-1]
    return Stack("go", (Raised(kind, message, tuple(frames[cut + 1 :] if cut >= 0 else frames)),))


# ----------------------------------------------------------------------------------------------- reader


@functools.lru_cache(maxsize=64)
def parse_stack(text: str) -> Stack | None:
    """The exception chain a runtime printed in ``text``, or None when no runtime's structure is there.

    Remembered for the last few stacks: ``tag_error`` and ``fingerprint_error`` read the same one."""
    lines = _lines(text)
    for i, line in enumerate(lines):
        if _strip(line) == PY_HEADER:
            return _parse_python(lines, i)
    for i, line in enumerate(lines):
        if _indented(line) and _strip(line).startswith("at "):
            if _is_java_frame_line(line):
                return _parse_java(lines)
            return _parse_js(lines, i)
    for i, line in enumerate(lines):
        if _is_go_location(line) and i > 0 and _go_function(lines[i - 1]) is not None:
            return _parse_go(lines)
        stripped = _strip(line)
        if stripped.startswith("goroutine ") and stripped.endswith("]:"):
            return _parse_go(lines)
    return None


def exception_line(text: str) -> tuple[str, str] | None:
    """``(type, message)`` of the exception a stack names: read from its structure (any name); in a
    text without one (a bare ``PaymentError: card declined``), only a name with an exception suffix
    on the first line counts."""
    stack = parse_stack(text)
    if stack is not None:
        raised = stack.chain[0] if stack.chain else None
        if raised is None or raised.type is None:
            return None
        return raised.type, raised.message
    return suffixed_exception(_strip(text).split("\n", 1)[0])


def suffixed_exception(line: str) -> tuple[str, str] | None:
    """``ValueError: x`` → (ValueError, x): a dotted name whose last part ends in an exception suffix
    (or is ``Error``/``Exception``), followed by ``:`` or the end. ASCII names only."""
    line = line.lstrip(WS)
    end = 0
    while end < len(line) and (line[end].isascii() and (line[end].isalnum() or line[end] in "_$.")):
        end += 1
    name = line[:end]
    rest = line[end:]
    if rest and not rest.startswith(":") and _strip(rest):
        return None
    if not name or name.endswith(".") or name.startswith(".") or ".." in name:
        return None
    last = name.rpartition(".")[2]
    if not last or not all(part and not part[0].isdigit() for part in name.split(".")):
        return None
    if last in ("Error", "Exception") or (
        "A" <= last[0] <= "Z" and any(last.endswith(s) and len(last) > len(s) for s in SUFFIXES)
    ):
        return name, _strip(rest[1:]) if rest.startswith(":") else ""
    return None
