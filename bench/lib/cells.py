# SPDX-License-Identifier: LGPL-2.1-or-later
"""Table cells shared by the bench scripts' markdown output."""
import statistics


def cell(v):
    """'median (min–max)' of a list of numbers, or '—' when empty."""
    if not v:
        return "—"
    return f"{statistics.median(v):.0f} ({min(v):.0f}–{max(v):.0f})"
