"""Text normalization for comparing spellings (consistency checks, lenient scoring)."""
from __future__ import annotations

import unicodedata

# Letters that spell the same word in Arabic and Persian text.
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا",
                       "ٱ": "ا", "ؤ": "و", "ئ": "ی", "ـ": None, "\u200c": " "})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalize(text: str) -> str:
    """Fold letter variants, diacritics, tatweel, ZWNJ and digits so spellings compare equal.

    >>> normalize("إسماعيل  هنيّة") == normalize("اسماعیل هنیه")
    True
    """
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_FOLD)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.lower().split())
