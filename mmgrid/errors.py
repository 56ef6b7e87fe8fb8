"""Errors raised for bad user input: they name the file, line or key, and the fix."""


class InputError(ValueError):
    """Bad input data or configuration that the user must fix.

    The message names where the problem is (file, line, field or config key) and how to fix it.
    """
