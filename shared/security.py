"""How Kafka clients join a secured cluster: the NEWS_KAFKA_* security settings, per client library.

Three mappings from one :class:`~shared.settings.ServiceSettings` (validated there by
``check_kafka_security``), so every client joins the same way:

- :func:`kafka_python_kwargs`: keyword arguments for kafka-python's ``KafkaProducer``,
  ``KafkaConsumer`` and ``KafkaAdminClient`` (the CLI, ``shared.admin``);
- :func:`faust_credentials`: faust's ``broker_credentials`` (its aiokafka clients), ``None`` for
  PLAINTEXT;
- :func:`ssl_context`: the ``ssl.SSLContext`` behind both.

Secrets stay in ``SecretStr`` until a client needs them; the kwargs mapping hides them in its
repr, and nothing here logs.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

    from shared.settings import ServiceSettings

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
_SECRET_KWARGS = frozenset({"sasl_plain_password", "ssl_password"})


class ClientSecurity(dict[str, Any]):
    """kafka-python security keyword arguments whose ``repr`` and ``str`` mask the secrets.

    A plain ``dict`` otherwise: pass it on as ``KafkaProducer(..., **security)``.
    """

    def __repr__(self) -> str:
        """The arguments with every secret masked."""
        shown = {
            k: "**********" if k in _SECRET_KWARGS and v is not None else v for k, v in self.items()
        }
        return f"{type(self).__name__}({shown!r})"


def kafka_python_kwargs(settings: ServiceSettings) -> ClientSecurity:
    """kafka-python keyword arguments for ``settings``' protocol, SASL login and TLS files.

    PLAINTEXT gives ``{"security_protocol": "PLAINTEXT"}`` (kafka-python's own default). For
    SSL and SASL_SSL, TLS is given as ``ssl_context`` (:func:`ssl_context`), not as kafka-python's
    ``ssl_cafile``/``ssl_certfile``/… arguments: faust's clients get the same context, so every
    client verifies the broker the same way, and an encrypted client key without a password fails
    instead of OpenSSL prompting for one on the terminal.
    """
    protocol = settings.kafka_security_protocol
    kwargs = ClientSecurity(security_protocol=protocol)
    if protocol in SASL_PROTOCOLS:
        assert settings.kafka_sasl_password is not None  # check_kafka_security requires it
        kwargs.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password.get_secret_value(),
        )
    if protocol in TLS_PROTOCOLS:
        kwargs["ssl_context"] = ssl_context(settings)
    return kwargs


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """A client TLS context for SSL and SASL_SSL (``None`` for the other protocols).

    Verifies the broker's certificate against ``kafka_ssl_cafile`` (or the system's CAs) and,
    unless ``kafka_ssl_check_hostname`` is off, its host name or IP address; presents a client
    certificate when ``kafka_ssl_certfile`` is set. Reads those files now.
    """
    if settings.kafka_security_protocol not in TLS_PROTOCOLS:
        return None
    cafile = settings.kafka_ssl_cafile
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(cafile) if cafile is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Switching hostname checks off keeps the chain verification (CERT_REQUIRED) on.
    context.check_hostname = settings.kafka_ssl_check_hostname
    certfile, keyfile = settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile
    if certfile is not None:
        secret = settings.kafka_ssl_key_password
        try:
            context.load_cert_chain(
                str(certfile),
                str(keyfile) if keyfile is not None else None,
                # Never None: OpenSSL would then prompt on the terminal and a worker would hang.
                secret.get_secret_value() if secret is not None else _refuse_prompt,
            )
        except ssl.SSLError as error:
            raise ValueError(
                f"cannot load the TLS client certificate {certfile} and key {keyfile or certfile}"
                f" (PEM? the right NEWS_KAFKA_SSL_KEY_PASSWORD?): {error}"
            ) from error
    return context


def _refuse_prompt() -> str:
    raise ValueError("the TLS client key is encrypted: set NEWS_KAFKA_SSL_KEY_PASSWORD")


def faust_credentials(settings: ServiceSettings) -> CredentialsT | None:
    """faust's ``broker_credentials`` for ``settings``: ``None`` for PLAINTEXT.

    SSL gives ``faust.SSLCredentials(context)``; SASL_PLAINTEXT and SASL_SSL give
    ``faust.SASLCredentials`` with the mechanism, user name and password, plus the TLS context
    for SASL_SSL (faust picks the protocol from whether a context is given). faust hands these to
    every aiokafka client it makes: consumer, producer, and the topic creation on them.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    import faust  # noqa: PLC0415 — here, so the CLI's kafka-python commands do not import faust

    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    assert settings.kafka_sasl_password is not None  # check_kafka_security requires it
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=context,
    )
