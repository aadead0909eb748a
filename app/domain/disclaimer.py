"""The short disclaimer every answer carries where the dataset's own (app/services/dataset.py) does not fit:
problem details, CDS cards, pages."""

from __future__ import annotations

from typing import Final

SHORT_DISCLAIMER: Final = "Reference information, not medical advice."
