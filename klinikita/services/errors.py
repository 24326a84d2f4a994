"""Errors the services raise; their messages are shown to staff as they are (Bahasa Indonesia)."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the request. `message` is for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class ValidationFailed(ServiceError):
    """Bad input: `errors` maps each wrong field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Periksa kembali isian yang ditandai.")
        self.errors = errors


class StaleEdit(ServiceError):
    """A save made from a form whose record someone else changed since the form was
    loaded: nothing was written; the message names who changed it and when."""
