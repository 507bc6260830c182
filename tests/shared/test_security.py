"""Secured Kafka without a broker: settings validation, the per-client mappings, the SASL_SSL listener config."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest
from cryptography.hazmat.primitives import serialization
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr, ValidationError

from cli.broker import SaslSslListener, free_port, render_server_properties
from shared import admin
from shared.admin import KafkaAccessError, explain_refusal, reveal_access_failures
from shared.security import ClientSecurity, faust_credentials, kafka_python_kwargs, ssl_context
from shared.settings import ServiceSettings
from tests.certs import TlsFiles, make_test_certificates

SECRET = "s3cret-Pa55word"


@pytest.fixture(autouse=True)
def no_news_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the NEWS_* variables it sets."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWS_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_test_certificates(tmp_path_factory.mktemp("tls"))


def sasl_ssl(tls: TlsFiles, **extra: object) -> ServiceSettings:
    return ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="newswatch",
        kafka_sasl_password=SECRET,
        kafka_ssl_cafile=tls.ca_cert,
        **extra,
    )


# -- settings ---------------------------------------------------------------------------------


def test_the_default_is_plaintext_with_nothing_to_add() -> None:
    settings = ServiceSettings()

    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert kafka_python_kwargs(settings) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None
    assert ssl_context(settings) is None


def test_security_settings_are_read_from_news_kafka_variables(
    monkeypatch: pytest.MonkeyPatch, tls: TlsFiles
) -> None:
    monkeypatch.setenv("NEWS_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")  # case does not matter
    monkeypatch.setenv("NEWS_KAFKA_SASL_MECHANISM", "scram-sha-512")
    monkeypatch.setenv("NEWS_KAFKA_SASL_USERNAME", "newswatch")
    monkeypatch.setenv("NEWS_KAFKA_SASL_PASSWORD", SECRET)
    monkeypatch.setenv("NEWS_KAFKA_SSL_CAFILE", str(tls.ca_cert))
    monkeypatch.setenv("NEWS_KAFKA_SSL_CHECK_HOSTNAME", "false")
    monkeypatch.setenv("NEWS_KAFKA_SSL_CERTFILE", "")  # Compose passes unset variables as ""

    settings = ServiceSettings()

    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.kafka_sasl_username == "newswatch"
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == SECRET
    assert settings.kafka_ssl_cafile == tls.ca_cert
    assert settings.kafka_ssl_certfile is None
    assert settings.kafka_ssl_check_hostname is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-256",
          "kafka_sasl_password": SECRET},
         "NEWS_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs NEWS_KAFKA_SASL_USERNAME"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "SCRAM-SHA-512",
          "kafka_sasl_username": "u"},
         "NEWS_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT needs NEWS_KAFKA_SASL_PASSWORD"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "u",
          "kafka_sasl_password": SECRET},
         "needs NEWS_KAFKA_SASL_MECHANISM"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "PLAIN",
          "kafka_sasl_username": "u", "kafka_sasl_password": ""},
         "needs NEWS_KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_username": "u", "kafka_sasl_password": SECRET},
         ("NEWS_KAFKA_SASL_USERNAME, NEWS_KAFKA_SASL_PASSWORD are only used with SASL_SSL or "
          "SASL_PLAINTEXT, not NEWS_KAFKA_SECURITY_PROTOCOL=PLAINTEXT")),
        ({"kafka_security_protocol": "SSL", "kafka_sasl_mechanism": "SCRAM-SHA-256"},
         "NEWS_KAFKA_SASL_MECHANISM is only used with SASL_SSL or SASL_PLAINTEXT"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "SCRAM-SHA-256",
          "kafka_sasl_username": "u", "kafka_sasl_password": SECRET, "kafka_ssl_cafile": "ca.pem"},
         ("NEWS_KAFKA_SSL_CAFILE is only used with SSL or SASL_SSL, not "
          "NEWS_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT")),
        ({"kafka_ssl_check_hostname": False},
         "NEWS_KAFKA_SSL_CHECK_HOSTNAME is only used with SSL or SASL_SSL"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/no/such/ca.pem"},
         "NEWS_KAFKA_SSL_CAFILE=/no/such/ca.pem: no such file"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": __file__},
         "NEWS_KAFKA_SSL_KEYFILE needs NEWS_KAFKA_SSL_CERTFILE"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_key_password": SECRET},
         "NEWS_KAFKA_SSL_KEY_PASSWORD needs NEWS_KAFKA_SSL_CERTFILE"),
        ({"kafka_security_protocol": "SASL"}, "kafka_security_protocol"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI",
          "kafka_sasl_username": "u", "kafka_sasl_password": SECRET},
         "kafka_sasl_mechanism"),
    ],
)  # fmt: skip
def test_inconsistent_security_settings_are_refused_with_what_to_fix(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ServiceSettings(**settings)  # type: ignore[arg-type]

    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_refused_setting_never_shows_the_password_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWS_KAFKA_SASL_PASSWORD", SECRET)  # but no SASL protocol

    with pytest.raises(ValidationError) as caught:
        ServiceSettings()

    assert "NEWS_KAFKA_SASL_PASSWORD is only used with" in str(caught.value)
    # What a traceback or a log line shows. (``errors()`` still holds the input, as pydantic's API.)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)


def test_secrets_are_not_in_the_settings_repr_or_str(tls: TlsFiles) -> None:
    settings = sasl_ssl(tls, kafka_ssl_certfile=tls.server_chain, kafka_ssl_keyfile=tls.server_key,
                        kafka_ssl_key_password="key-" + SECRET)  # fmt: skip

    for text in (repr(settings), str(settings), repr(settings.model_dump())):
        assert SECRET not in text
    assert "newswatch" in repr(settings)  # the user name is not a secret


# -- kafka-python -----------------------------------------------------------------------------


def test_sasl_ssl_maps_to_kafka_python_arguments(tls: TlsFiles) -> None:
    kwargs = kafka_python_kwargs(sasl_ssl(tls))

    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "newswatch",
        "sasl_plain_password": SECRET,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert SECRET not in repr(kwargs)
    assert SECRET not in str(kwargs)
    assert SECRET not in f"{kwargs}"


def test_sasl_plaintext_has_no_tls_arguments() -> None:
    settings = ServiceSettings(kafka_security_protocol="SASL_PLAINTEXT",
                               kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="u",
                               kafka_sasl_password=SECRET)  # fmt: skip

    assert kafka_python_kwargs(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "u",
        "sasl_plain_password": SECRET,
    }


def test_ssl_maps_to_a_tls_context_and_no_sasl_arguments(tls: TlsFiles) -> None:
    settings = ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=tls.ca_cert,
                               kafka_ssl_check_hostname=False)  # fmt: skip

    kwargs = kafka_python_kwargs(settings)

    assert set(kwargs) == {"security_protocol", "ssl_context"}
    assert kwargs["security_protocol"] == "SSL"
    assert kwargs["ssl_context"].check_hostname is False


def test_client_security_is_a_plain_mapping_for_keyword_arguments() -> None:
    def client(**kwargs: object) -> dict[str, object]:
        return kwargs

    security = ClientSecurity(security_protocol="SASL_SSL", sasl_plain_password=SECRET)
    passed = client(**security)

    assert passed["sasl_plain_password"] == SECRET
    assert repr(security) == (
        "ClientSecurity({'security_protocol': 'SASL_SSL', 'sasl_plain_password': '**********'})"
    )


# -- TLS context and faust ---------------------------------------------------------------------


def test_the_tls_context_verifies_the_broker_against_the_ca_and_its_host_name(
    tls: TlsFiles,
) -> None:
    context = ssl_context(sasl_ssl(tls))

    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "newswatch test CA"),),)
    ]


def test_without_hostname_checks_the_chain_is_still_verified(tls: TlsFiles) -> None:
    context = ssl_context(sasl_ssl(tls, kafka_ssl_check_hostname=False))

    assert context is not None
    assert context.check_hostname is False
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_the_tls_context_loads_an_encrypted_client_key_with_its_password(
    tls: TlsFiles, tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(tls.server_key.read_bytes(), password=None)
    encrypted = tmp_path / "client-key.pem"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRET.encode())))  # fmt: skip
    settings = ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=tls.ca_cert,
                               kafka_ssl_certfile=tls.server_chain, kafka_ssl_keyfile=encrypted,
                               kafka_ssl_key_password=SECRET)  # fmt: skip
    assert ssl_context(settings) is not None

    # No password: an error, never OpenSSL's "Enter PEM pass phrase:" prompt on the terminal.
    with pytest.raises(ValueError, match="encrypted: set NEWS_KAFKA_SSL_KEY_PASSWORD"):
        ssl_context(settings.model_copy(update={"kafka_ssl_key_password": None}))
    wrong = settings.model_copy(update={"kafka_ssl_key_password": SecretStr("wrong")})
    with pytest.raises(ValueError, match="the right NEWS_KAFKA_SSL_KEY_PASSWORD"):
        ssl_context(wrong)


def test_sasl_ssl_gives_faust_sasl_credentials_with_the_tls_context(tls: TlsFiles) -> None:
    credentials = faust_credentials(sasl_ssl(tls))

    assert isinstance(credentials, faust.SASLCredentials)
    assert SECRET not in repr(credentials)
    # What faust hands to aiokafka, for its consumer, producer and topic creation alike.
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-256"
    assert auth["sasl_plain_username"] == "newswatch"
    assert auth["sasl_plain_password"] == SECRET
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert auth["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_sasl_plaintext_gives_faust_sasl_credentials_without_tls() -> None:
    settings = ServiceSettings(kafka_security_protocol="SASL_PLAINTEXT",
                               kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="u",
                               kafka_sasl_password=SECRET)  # fmt: skip

    auth = credentials_to_aiokafka_auth(faust_credentials(settings))

    assert auth["security_protocol"] == "SASL_PLAINTEXT"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["ssl_context"] is None


def test_ssl_gives_faust_ssl_credentials(tls: TlsFiles) -> None:
    credentials = faust_credentials(ServiceSettings(kafka_security_protocol="SSL",
                                                    kafka_ssl_cafile=tls.ca_cert))  # fmt: skip

    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"


def test_a_faust_app_accepts_the_credentials_as_broker_credentials(tls: TlsFiles) -> None:
    credentials = faust_credentials(sasl_ssl(tls))

    app = faust.App("test-security", broker="kafka://127.0.0.1:9", broker_credentials=credentials)

    assert app.conf.broker_credentials is credentials


# -- explaining refusals ----------------------------------------------------------------------


def test_plaintext_needs_no_explanation() -> None:
    assert explain_refusal("127.0.0.1:9", {"security_protocol": "PLAINTEXT"}) is None
    assert explain_refusal("127.0.0.1:9", None) is None


def test_nothing_listening_is_not_a_refusal(tls: TlsFiles) -> None:
    security = kafka_python_kwargs(sasl_ssl(tls))

    assert explain_refusal(f"127.0.0.1:{free_port()}", security, timeout=2) is None


def test_a_refusal_replaces_kafka_pythons_bootstrap_timeout(
    monkeypatch: pytest.MonkeyPatch, tls: TlsFiles
) -> None:
    refusal = KafkaAccessError(
        "Kafka at 127.0.0.1:9093 refused the SASL login: invalid credentials"
    )
    asked = []
    monkeypatch.setattr(admin, "explain_refusal", lambda b, s: asked.append((b, s)) or refusal)
    security = kafka_python_kwargs(sasl_ssl(tls))

    with (
        pytest.raises(KafkaAccessError) as caught,
        reveal_access_failures("127.0.0.1:9093", security),
    ):
        raise KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:9093")

    assert caught.value is refusal
    assert isinstance(caught.value.__cause__, KafkaTimeoutError)
    assert asked == [("127.0.0.1:9093", security)]


def test_without_a_refusal_the_original_error_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "explain_refusal", lambda b, s: None)

    with pytest.raises(KafkaTimeoutError), reveal_access_failures("127.0.0.1:9093", None):
        raise KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:9093")


# -- the local broker's SASL_SSL listener -----------------------------------------------------


def listener(tls: TlsFiles, **users: str) -> SaslSslListener:
    return SaslSslListener(port=29094, certificate_chain=tls.server_chain, private_key=tls.server_key,
                           users=users or {"newswatch": SECRET})  # fmt: skip


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_sasl_ssl_listener_is_added_next_to_plaintext(tls: TlsFiles, tmp_path: Path) -> None:
    props = parse_properties(render_server_properties(
        port=29092, controller_port=29093, log_dirs=tmp_path, sasl_ssl=listener(tls)))  # fmt: skip

    assert props["listeners"] == (
        "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093,SASL_SSL://127.0.0.1:29094"
    )
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092,SASL_SSL://127.0.0.1:29094"
    assert props["listener.security.protocol.map"].endswith(",SASL_SSL:SASL_SSL")
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256,SCRAM-SHA-512"
    for mechanism in ("scram-sha-256", "scram-sha-512"):
        assert props[f"listener.name.sasl_ssl.{mechanism}.sasl.jaas.config"] == (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        )
    assert props["ssl.keystore.type"] == "PEM"
    # One properties line each, with \n escapes: Kafka's PEM parser needs the line breaks.
    chain = props["ssl.keystore.certificate.chain"]
    assert chain.count("-----BEGIN CERTIFICATE-----") == 2
    assert chain.replace("\\n", "\n") == tls.server_chain.read_text().strip()
    assert props["ssl.keystore.key"].startswith("-----BEGIN PRIVATE KEY-----\\n")
    assert SECRET not in render_server_properties(
        port=29092, controller_port=29093, log_dirs=tmp_path, sasl_ssl=listener(tls)
    )


def test_without_the_listener_the_config_is_unchanged(tmp_path: Path) -> None:
    props = parse_properties(
        render_server_properties(port=29092, controller_port=29093, log_dirs=tmp_path)
    )

    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert "sasl.enabled.mechanisms" not in props


def test_scram_users_are_created_for_both_mechanisms_at_format_time(tls: TlsFiles) -> None:
    assert listener(tls, alice="a-1", bob="b-2").scram_arguments() == [
        "--add-scram", "SCRAM-SHA-256=[name=alice,password=a-1]",
        "--add-scram", "SCRAM-SHA-512=[name=alice,password=a-1]",
        "--add-scram", "SCRAM-SHA-256=[name=bob,password=b-2]",
        "--add-scram", "SCRAM-SHA-512=[name=bob,password=b-2]",
    ]  # fmt: skip


def test_the_listener_repr_hides_the_passwords(tls: TlsFiles) -> None:
    assert SECRET not in repr(listener(tls))


@pytest.mark.parametrize(
    "users", [{}, {"a,b": "pw"}, {"alice": "pa]ss"}, {"alice": 'p"w'}, {"alice": ""}]
)
def test_users_the_storage_tool_would_misread_are_refused(
    tls: TlsFiles, users: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="SCRAM user|SASL_SSL listener"):
        SaslSslListener(
            port=1, certificate_chain=tls.server_chain, private_key=tls.server_key, users=users
        )


def test_an_encrypted_private_key_is_refused_with_why(tls: TlsFiles, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(tls.server_key.read_bytes(), password=None)
    encrypted = tmp_path / "key.pem"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw")))  # fmt: skip
    broken = SaslSslListener(port=1, certificate_chain=tls.server_chain, private_key=encrypted,
                             users={"alice": "pw"})  # fmt: skip

    with pytest.raises(Exception, match="not an unencrypted PKCS#8 PEM key"):
        broken.server_properties()
