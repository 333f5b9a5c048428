"""Words in text fields as Elasticsearch's ``standard`` analyzer cuts them, for DuckDB to match alike.

Elasticsearch indexes ``message``, ``error.message`` and ``error.stack_trace`` with the standard
tokenizer (Unicode word boundaries, UAX #29) and lowercases the words. Those boundaries are not a
regex's ``\\b``: ``payments.py``, ``auth.js`` and ``myapp.errors.PaymentDeclined`` are one word each (a
``.`` or ``:`` between two letters joins them, a ``.`` or ``,`` between two digits too), while
``auth.js:390`` is two (``:`` between a letter and a digit does not join). A stack trace is full of
such names, so a search for ``payments`` must not find ``payments.py`` in DuckDB when Elasticsearch
does not. ``tokens`` cuts text the same way (alphabetic scripts, digits, ``_``; each Han or Hiragana
character is a word of its own), and ``phrase_pattern`` is the RE2 pattern DuckDB runs to find
those words, one after another, in a stored text.
"""

from __future__ import annotations

import re
import unicodedata

LETTER_JOINERS = ".:'\u2019\u00b7"  # MidLetter, MidNumLet and Single_Quote: join two letters
DIGIT_JOINERS = ".,;'\u2019"  # MidNum, MidNumLet and Single_Quote: join two digits
WILDCARD = "*?"

# RE2 classes. Token characters: letters (with their marks), decimal digits, connector punctuation.
_TOKEN = r"\pL\p{Nd}\pM\p{Pc}"
_LJ = re.escape(LETTER_JOINERS)
_DJ = re.escape(DIGIT_JOINERS)
_SOLO = r"[\p{Han}\p{Hiragana}]"  # a word by itself, so always a boundary for its neighbours
_LEFT = {
    "L": rf"(?:^|[^{_TOKEN}{_LJ}]|(?:^|[^\pL\pM])[{_LJ}]|{_SOLO})",
    "N": rf"(?:^|[^{_TOKEN}{_DJ}]|(?:^|[^\p{{Nd}}])[{_DJ}]|{_SOLO})",
    "E": rf"(?:^|[^{_TOKEN}]|{_SOLO})",
    "I": "",
}
_RIGHT = {
    "L": rf"(?:$|[^{_TOKEN}{_LJ}]|[{_LJ}](?:$|[^\pL\pM])|{_SOLO})",
    "N": rf"(?:$|[^{_TOKEN}{_DJ}]|[{_DJ}](?:$|[^\p{{Nd}}])|{_SOLO})",
    "E": rf"(?:$|[^{_TOKEN}]|{_SOLO})",
    "I": "",
}
# The last character of a word a wildcard ends: its class decides which joiner after it ends the word.
_LAST = rf"(?:[\pL\pM]{_RIGHT['L']}|\p{{Nd}}{_RIGHT['N']}|\p{{Pc}}{_RIGHT['E']})"
_ANY_CHARS = rf"(?:[{_TOKEN}]|[{_LJ}{_DJ}][{_TOKEN}])*"
_ONE_CHAR = rf"[{_TOKEN}]"
_JOINER = rf"[{_LJ}{_DJ}]"


def char_class(ch: str) -> str:
    """``L`` letter (or mark), ``N`` decimal digit, ``E`` connector (``_``), ``I`` a one-character word
    (Han, Hiragana), ``J`` a joiner, ``O`` anything else."""
    if ch in LETTER_JOINERS or ch in DIGIT_JOINERS:
        return "J"
    category = unicodedata.category(ch)
    if category[0] == "L":
        name = unicodedata.name(ch, "")
        return "I" if name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA")) else "L"
    if category[0] == "M":
        return "L"
    if category == "Nd":
        return "N"
    if category == "Pc":
        return "E"
    return "O"


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the standard tokenizer finds them (not lowercased)."""
    out: list[str] = []
    word: list[str] = []
    last = ""  # class of the word's last character
    for i, ch in enumerate(text):
        kind = char_class(ch)
        if kind in ("L", "N", "E"):
            word.append(ch)
            last = kind
            continue
        if kind == "J" and word and i + 1 < len(text):
            following = char_class(text[i + 1])
            if (last == following == "L" and ch in LETTER_JOINERS) or (
                last == following == "N" and ch in DIGIT_JOINERS
            ):
                word.append(ch)
                continue
        if word:
            out.append("".join(word))
            word = []
        if kind == "I":
            out.append(ch)
    if word:
        out.append("".join(word))
    return out


def one_word(pattern: str) -> bool:
    """Whether a wildcard pattern (``declin*``, ``pay?ent``) stands for one word, as it must."""
    return len(tokens("".join("a" if c in WILDCARD else c for c in pattern))) == 1


def phrase_pattern(value: str) -> str | None:
    """A case-insensitive RE2 pattern finding the words of ``value`` one after another as whole words,
    as ``match_phrase`` does in Elasticsearch; ``None`` when ``value`` has no word."""
    words = tokens(value)
    if not words:
        return None
    parts = [_LEFT[_edge(words[0][0])]]
    for i, word in enumerate(words):
        if i:
            parts.append(_gap(_edge(words[i - 1][-1]), _edge(word[0])))
        parts.append(re.escape(word))
    parts.append(_RIGHT[_edge(words[-1][-1])])
    return "(?i)" + "".join(parts)


def wildcard_pattern(pattern: str) -> str:
    """A case-insensitive RE2 pattern finding one whole word that ``pattern`` (``*`` any characters,
    ``?`` one, not first) matches, as Elasticsearch's ``wildcard`` query does on the indexed words."""
    word = pattern.strip()
    core = word.rstrip(WILDCARD)
    tail = word[len(core) :]
    body = "".join(_ANY_CHARS if c == "*" else _ONE_CHAR if c == "?" else re.escape(c) for c in core)
    if not tail:
        end = _RIGHT[_edge(core[-1])]
    elif "?" not in tail:  # "declin*": the word may end where the literal part does, or further on
        end = f"(?:{_RIGHT[_edge(core[-1])]}|{_ANY_CHARS}{_JOINER}?{_LAST})"
    else:  # "auth.j?": the last character is a word character of any class, and decides the boundary
        end = _ONE_CHAR * (tail.count("?") - 1) + (_ANY_CHARS + _JOINER + "?" if "*" in tail else "") + _LAST
    return "(?i)" + _LEFT[_edge(core[0])] + body + end


def _edge(ch: str) -> str:
    kind = char_class(ch)
    return kind if kind in ("L", "N", "E", "I") else "L"


def _gap(before: str, after: str) -> str:
    """What may stand between two consecutive words: no word character, and not one joiner that would
    make the two one word."""
    if "I" in (before, after):
        return rf"[^{_TOKEN}]*"
    if before == after == "L":
        return rf"(?:[^{_TOKEN}{_LJ}]|[^{_TOKEN}]{{2,}})"
    if before == after == "N":
        return rf"(?:[^{_TOKEN}{_DJ}]|[^{_TOKEN}]{{2,}})"
    return rf"[^{_TOKEN}]+"
