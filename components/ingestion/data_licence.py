"""The data set's licence, as its own folder states it (README or LICENSE at the top of the data directory).

Recorded in the ingestion report so the model card can name the licence of
the data a model was trained on, wherever the pipeline ran.
"""
from __future__ import annotations

import os
import re
from typing import Optional

NOTE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "LICENCE.txt", "README.md", "README.txt", "README")
_MAX_CHARS = 300


def licence_note(data_dir: str) -> Optional[str]:
    """'FILE: the first sentence that mentions a licence', or None when no such file says one."""
    for name in NOTE_FILES:
        path = os.path.join(data_dir, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(50_000)
        for paragraph in re.split(r"\n\s*\n", text):
            flat = " ".join(paragraph.split())
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", flat):
                if re.search(r"licen[cs]", sentence, re.IGNORECASE):
                    return f"{name}: {sentence[:_MAX_CHARS]}"
    return None
