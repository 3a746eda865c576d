"""Text folding shared by search, sorting and name matching (accent-, case- and ligature-insensitive)."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'", "ʼ": "'"})
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, strip accents and expand ligatures: « Œuvre Épicée » → « oeuvre epicee »."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def sort_key(text: str) -> str:
    """The key French names sort by: folded, so « Épicerie » sorts with the E's."""
    return fold(text)


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, as FTS5's unicode61 tokenizer would cut them."""
    return _TOKEN.findall(fold(text))


def fts_prefix_query(text: str) -> str | None:
    """An FTS5 query matching every word of ``text`` as a prefix, or None when there is no word.

    Each token is quoted, so user input can never inject FTS5 syntax (AND, NEAR, column filters…).
    One-letter words are left out (« l' », « d' », an initial): as prefixes they match nearly every
    document, and they are not what anyone searches for.
    """
    words = [word for word in tokens(text) if len(word) > 1]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)
