"""Publishing failures. Each is a GeneratorError: the CLI prints its message, without a traceback."""
from __future__ import annotations

from generator.errors import GeneratorError


class PublishError(GeneratorError):
    """Publishing could not start or had to stop."""


class ConfigError(PublishError):
    """The GRAFANA_* environment is missing, contradictory or unsafe."""


class GrafanaError(PublishError):
    """Grafana answered with an error, or could not be reached. `status` is 0 when there was no answer."""

    def __init__(self, message: str, status: int = 0, body=None):
        super().__init__(message)
        self.status = status
        self.body = body

    @property
    def grafana_status(self) -> str:
        """Grafana's machine-readable `status` (e.g. `version-mismatch`), when the body has one."""
        return self.body.get("status", "") if isinstance(self.body, dict) else ""


class Unavailable(GrafanaError):
    """No usable answer after every retry: unreachable, timing out, 5xx or 429."""


class TlsFailure(GrafanaError):
    """The TLS handshake failed, usually an unverifiable certificate. Not retried."""


class Unauthorized(GrafanaError):
    """401: the credentials were refused."""


class Forbidden(GrafanaError):
    """403: the credentials work but lack a permission."""


class Rejected(GrafanaError):
    """Any other 4xx: this request was refused (bad input, not found, conflict...)."""


class UnsupportedVersion(PublishError):
    """Grafana is older than the oldest version this tool publishes to."""
