"""The broker's server.properties, optionally with a SASL_SSL listener."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cli.broker.paths import SERVER_PROPERTIES_TEMPLATE
from shared.admin import HOST, BrokerError

# SCRAM user names and passwords go into StorageTool arguments
# ("SCRAM-SHA-256=[name=…,password=…]"), which have their own quoting rules, so only characters
# that need no quoting are accepted.
_PLAIN_CHARS = frozenset(string.ascii_letters + string.digits + "-_.~")
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SaslSslListener:
    """An extra SASL_SSL listener (SCRAM-SHA-256 and -512 over TLS), opened next to PLAINTEXT.

    ``certificate_chain`` is a PEM file with the server certificate first, then its CA(s);
    ``private_key`` the server's key as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``). Both go
    inline into server.properties (``ssl.keystore.type=PEM``, ``ssl.keystore.certificate.chain``,
    ``ssl.keystore.key``): a PEM keystore *file* would need an encrypted key, and Java 17 cannot
    read the PBES2 encryption that Python's ``cryptography`` writes (deploy/kafka/README.md).
    ``users`` maps SCRAM user names to passwords; each is created for both mechanisms when the
    data dir is formatted. Passwords never appear in the repr.
    """

    port: int
    certificate_chain: Path
    private_key: Path
    users: Mapping[str, str] = field(repr=False)

    def __post_init__(self) -> None:
        """Refuse users the storage tool would parse differently, and keys Kafka cannot read."""
        if not self.users:
            raise ValueError("a SASL_SSL listener needs at least one SCRAM user")
        for name, password in self.users.items():
            for what, value in ((f"user name {name!r}", name), (f"password of {name!r}", password)):
                if not value or not set(value) <= _PLAIN_CHARS:
                    raise ValueError(
                        f"SASL_SSL listener: the {what} must be non-empty and use "
                        "only letters, digits and - _ . ~"
                    )

    def server_properties(self) -> dict[str, str]:
        """The broker settings this listener adds (the listener lists are extended separately).

        Reads the PEM files. Each PEM value is one properties line with its line breaks written
        as ``\\n`` escapes: Kafka's PEM parser needs them (with a whole chain on one line, it
        matches from the first BEGIN to the last CERTIFICATE and keeps only the CA).
        """
        key = Path(self.private_key).read_text()
        if "-----BEGIN PRIVATE KEY-----" not in key:
            raise BrokerError(
                f"{self.private_key}: not an unencrypted PKCS#8 PEM key "
                "(-----BEGIN PRIVATE KEY-----)"
            )
        chain = Path(self.certificate_chain).read_text()
        if "-----BEGIN CERTIFICATE-----" not in chain:
            raise BrokerError(f"{self.certificate_chain}: no PEM certificate in it")
        jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        props = {
            "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
            "ssl.client.auth": "none",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.certificate.chain": _escaped_lines(chain),
            "ssl.keystore.key": _escaped_lines(key),
        }
        for mechanism in SCRAM_MECHANISMS:
            props[f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config"] = jaas
        return props

    def scram_arguments(self) -> list[str]:
        """``--add-scram`` arguments for ``StorageTool format``: every user, both mechanisms."""
        return [
            arg
            for name, password in self.users.items()
            for mechanism in SCRAM_MECHANISMS
            for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]


def _escaped_lines(text: str) -> str:
    """Multi-line text as one properties value: line breaks become ``\\n`` escapes."""
    return "\\n".join(text.strip().splitlines())


def render_server_properties(
    *, port: int, controller_port: int, log_dirs: Path, sasl_ssl: SaslSslListener | None = None
) -> str:
    """Fill deploy/kafka/server.properties with the ports and the (absolute) data directory.

    With ``sasl_ssl``, a ``SASL_SSL`` listener is added to ``listeners``,
    ``advertised.listeners`` and ``listener.security.protocol.map`` (the PLAINTEXT listener
    stays as it is, and remains the inter-broker listener), and its settings are appended.
    """
    template = string.Template(SERVER_PROPERTIES_TEMPLATE.read_text())
    text = template.substitute(
        port=port, controller_port=controller_port, log_dirs=Path(log_dirs).resolve()
    )
    if sasl_ssl is None:
        return text
    extra = {
        "listeners": f"SASL_SSL://{HOST}:{sasl_ssl.port}",
        "advertised.listeners": f"SASL_SSL://{HOST}:{sasl_ssl.port}",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL",
    }
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in extra and not line.lstrip().startswith("#"):
            line = f"{line.rstrip()},{extra.pop(key)}"
        lines.append(line)
    if extra:  # the template lost a line this relies on
        raise BrokerError(f"{SERVER_PROPERTIES_TEMPLATE} has no {', '.join(extra)} line")
    lines += ["", "# SASL_SSL listener (LocalKafka(sasl_ssl=...), deploy/kafka/README.md)"]
    lines += [f"{k}={v}" for k, v in sasl_ssl.server_properties().items()]
    return "\n".join(lines) + "\n"
