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


class DeliveryError(SoukError):
    """An outbound call to a messaging platform failed."""

    #: Whether trying again later may succeed.
    retryable: bool = True


class RecipientUnreachable(DeliveryError):
    """The user blocked the bot, deleted the account or never started it."""

    retryable = False


class RateLimited(DeliveryError):
    """The platform asked us to wait before sending to this key again."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedByPlatform(DeliveryError):
    """The platform refused the request itself (bad request); retrying will not help."""

    retryable = False
