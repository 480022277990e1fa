"""TLS and SASL settings for Kafka and PostgreSQL: what the clients are given, and that no secret
shows in a repr or a log line. The SCRAM broker itself is in tests/integration/test_kafka_security.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr, ValidationError

from services.common.kafka import broker_security, client_security, ssl_context
from services.common.postgres import ssl_option
from services.common.settings import KafkaSettings, PostgresSettings

PASSWORD = "geheim-wachtwoord-7f3a"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA and a client certificate it signed, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Seinpost test CA"))
        .issuer_name(_name("Seinpost test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(_name("seinpost-intake"))
        .issuer_name(ca.subject)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "client.pem", "key": folder / "client.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(client.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return paths


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    kafka = KafkaSettings()
    assert client_security(kafka) == {"security_protocol": "PLAINTEXT"}
    assert broker_security(kafka) is None
    assert ssl_context(kafka) is None


@pytest.mark.parametrize(
    ("mechanism", "security_class"),
    [("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_sasl_scram_reaches_faststream_and_aiokafka_alike(
    mechanism: str, security_class: type[BaseSecurity]
) -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,
        sasl_username="seinpost",
        sasl_password=SecretStr(PASSWORD),
    )
    security = broker_security(kafka)
    assert isinstance(security, security_class)
    direct = client_security(kafka)
    assert direct == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "seinpost",
        "sasl_plain_password": PASSWORD,
    }
    # What FastStream hands to aiokafka is what we hand it ourselves.
    through_faststream = parse_security(security)
    assert through_faststream["ssl_context"] is None
    assert {key: through_faststream[key] for key in direct} == direct


def test_sasl_ssl_builds_a_context_from_the_files(pki: dict[str, Path]) -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_username="seinpost",
        sasl_password=SecretStr(PASSWORD),
        ssl_cafile=pki["ca"],
        ssl_certfile=pki["cert"],
        ssl_keyfile=pki["key"],
        ssl_key_password=SecretStr(PASSWORD),
    )
    context = ssl_context(kafka)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    [authority] = context.get_ca_certs()
    assert "Seinpost test CA" in str(authority["subject"])
    options = parse_security(broker_security(kafka))
    assert options["security_protocol"] == "SASL_SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert client_security(kafka)["security_protocol"] == "SASL_SSL"


def test_ssl_without_sasl(pki: dict[str, Path]) -> None:
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=pki["ca"], ssl_check_hostname=False)
    options = parse_security(broker_security(kafka))
    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].check_hostname is False
    assert "sasl_mechanism" not in client_security(kafka)


def test_a_wrong_key_password_fails_at_start_not_later(pki: dict[str, Path]) -> None:
    kafka = KafkaSettings(
        security_protocol="SSL",
        ssl_cafile=pki["ca"],
        ssl_certfile=pki["cert"],
        ssl_keyfile=pki["key"],
        ssl_key_password=SecretStr("niet-het-wachtwoord"),
    )
    with pytest.raises(ssl.SSLError):
        ssl_context(kafka)


def test_half_a_sasl_configuration_is_refused() -> None:
    with pytest.raises(ValidationError, match="sasl_username and sasl_password"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_username="seinpost")
    with pytest.raises(ValidationError, match="ssl_keyfile needs ssl_certfile"):
        KafkaSettings(security_protocol="SSL", ssl_keyfile=Path("client.key"))


def test_settings_come_from_the_environment_and_hide_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEINPOST_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("SEINPOST_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("SEINPOST_KAFKA_SASL_USERNAME", "seinpost")
    monkeypatch.setenv("SEINPOST_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("SEINPOST_POSTGRES_SSLMODE", "require")
    monkeypatch.setenv("SEINPOST_POSTGRES_SSL_KEY_PASSWORD", PASSWORD)
    kafka = KafkaSettings()
    postgres = PostgresSettings()
    assert kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert kafka.sasl_password.get_secret_value() == PASSWORD
    assert postgres.sslmode == "require"
    for shown in (repr(kafka), str(kafka), repr(postgres), str(postgres.model_dump())):
        assert PASSWORD not in shown


def test_postgres_sslmode_without_files_is_passed_to_asyncpg_as_is() -> None:
    assert ssl_option(PostgresSettings()) is None
    assert ssl_option(PostgresSettings(sslmode="require")) == "require"
    assert ssl_option(PostgresSettings(sslmode="disable")) == "disable"


def test_postgres_verify_full_builds_a_verifying_context(pki: dict[str, Path]) -> None:
    option = ssl_option(PostgresSettings(sslmode="verify-full", ssl_rootcert=pki["ca"]))
    assert isinstance(option, ssl.SSLContext)
    assert option.verify_mode == ssl.CERT_REQUIRED
    assert option.check_hostname
    verify_ca = ssl_option(
        PostgresSettings(
            sslmode="verify-ca",
            ssl_rootcert=pki["ca"],
            ssl_cert=pki["cert"],
            ssl_key=pki["key"],
            ssl_key_password=SecretStr(PASSWORD),
        )
    )
    assert isinstance(verify_ca, ssl.SSLContext)
    assert verify_ca.verify_mode == ssl.CERT_REQUIRED
    assert not verify_ca.check_hostname


def test_postgres_verify_modes_need_a_root_certificate() -> None:
    with pytest.raises(ValidationError, match="needs ssl_rootcert"):
        PostgresSettings(sslmode="verify-full")
