"""Marking user-facing text for translation where it is defined."""


def N_(message: str) -> str:
    """Mark `message` for the catalogues; it is translated when it is shown, not here."""
    return message
