"""One exception root; each subsystem raises a meaningful subclass."""

from __future__ import annotations


class SoukError(Exception):
    """Root of every error souk raises on purpose."""


class ConfigurationError(SoukError):
    """The settings or the environment cannot work as given."""


class EmbeddedServiceError(SoukError):
    """An embedded Postgres or Redis could not be started or reached."""


class InvalidInput(SoukError):
    """A value given by a person cannot be used; the message says which and why."""


class NotFoundError(SoukError):
    """A thing asked for by name or id does not exist in this shop."""


class ConflictError(SoukError):
    """The request contradicts what is stored (duplicate slug, stale value...)."""
