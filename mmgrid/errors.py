"""Errors raised for bad user input: they name the file, line or key, and the fix."""


class InputError(ValueError):
    """Bad input data or configuration that the user must fix.

    The message names where the problem is (file, line, field or config key) and how to fix it.
    """


def os_error_text(error: OSError, context: str) -> str:
    """One line for an operating-system error (disk full, permission denied): the file it
    concerns (``context`` when the error names none) and the reason."""
    where = error.filename if error.filename is not None else context
    reason = error.strerror or str(error)
    return f"{where}: {reason}" + (f" ({error.filename2})" if error.filename2 else "")
