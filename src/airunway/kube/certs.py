"""Serving certificates for an admission webhook: generated, kept in a Secret, rotated, and trusted by the API server.

:class:`CertRotator` plays the part of upstream's cert-controller rotator:

* the Secret ``<namespace>/<secret>`` holds a CA and a serving certificate it signed (keys ``ca.crt``, ``ca.key``,
  ``tls.crt``, ``tls.key``); the serving certificate names the webhook Service (``<svc>.<ns>.svc`` and
  ``<svc>.<ns>.svc.cluster.local``) and any extra hosts (``127.0.0.1`` for a controller run outside the cluster);
* when the Secret is missing, unreadable, inconsistent, for other hosts, or within ``lookahead`` of expiring, new
  certificates are written to it (the CA is kept while it is sound, so the trusted bundle does not change for a
  new serving certificate);
* the Secret's files are copied into the webhook server's certificate folder (the server reloads them);
* ``caBundle`` of every webhook in the named Validating/MutatingWebhookConfigurations is set to the CA, and put
  back whenever someone changes or clears it (the rotator watches the Secret and the configurations).

Every replica runs the rotator, not only the leader: Secret writes carry the resourceVersion read, so of two
replicas rotating at once one wins and the other adopts its certificates; caBundle writes are idempotent. Every
replica thus serves with the certificate the API server trusts, which is what a Service in front of several
replicas needs.

:func:`bootstrap` writes a short-lived self-signed pair when the folder is empty, so the webhook server can start
before the Secret is read (upstream does the same).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import logging
import os
import random
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airunway.kube.client import Client
from airunway.kube.errors import AlreadyExists, ApiError, Conflict, NotFound
from airunway.kube.informer import Informer
from airunway.kube.resources import SECRETS, Resource

log = logging.getLogger("airunway.kube.certs")

VALIDATING_WEBHOOK_CONFIGURATIONS = Resource(
    "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", namespaced=False,
    kind="ValidatingWebhookConfiguration",
)
MUTATING_WEBHOOK_CONFIGURATIONS = Resource(
    "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", namespaced=False,
    kind="MutatingWebhookConfiguration",
)

CA_CERT, CA_KEY, TLS_CERT, TLS_KEY = "ca.crt", "ca.key", "tls.crt", "tls.key"

# cert-controller's durations: certificates for ten years, renewed 90 days before they expire, checked twice a day.
VALIDITY = dt.timedelta(days=3650)
LOOKAHEAD = dt.timedelta(days=90)
CHECK_INTERVAL = 12 * 3600.0
BOOTSTRAP_VALIDITY = dt.timedelta(hours=24)
CLOCK_SKEW = dt.timedelta(minutes=5)  # backdating, so a node whose clock lags still accepts a fresh certificate
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)  # to compare public keys
_UNREADABLE = (ValueError, TypeError, UnsupportedAlgorithm)  # what parsing a damaged PEM raises


# --------------------------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class KeyPair:
    """A PEM certificate and its PEM private key."""

    cert: bytes
    key: bytes


@dataclass(frozen=True)
class Artifacts:
    """What the Secret holds: the CA and the serving pair it signed."""

    ca: KeyPair
    serving: KeyPair

    def secret_data(self) -> dict[str, str]:
        """The Secret's ``data`` (base64 values)."""
        files = {CA_CERT: self.ca.cert, CA_KEY: self.ca.key, TLS_CERT: self.serving.cert, TLS_KEY: self.serving.key}
        return {name: base64.b64encode(content).decode() for name, content in files.items()}

    @classmethod
    def from_secret_data(cls, data: Mapping[str, Any] | None) -> "Artifacts | None":
        """The artifacts in a Secret's ``data``, or None when a key is missing or not base64."""
        data = data or {}
        try:
            files = {name: base64.b64decode(data[name], validate=True) for name in (CA_CERT, CA_KEY, TLS_CERT, TLS_KEY)}
        except (KeyError, TypeError, ValueError):
            return None
        return cls(KeyPair(files[CA_CERT], files[CA_KEY]), KeyPair(files[TLS_CERT], files[TLS_KEY]))


def service_hosts(service: str, namespace: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The names a webhook Service is called by, then ``extra`` (deduplicated, order kept)."""
    hosts = [f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local", *extra]
    return list(dict.fromkeys(h.strip() for h in hosts if h and h.strip()))


def subject_alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    """IP addresses as IP SANs, everything else as DNS names."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def certificate_builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, validity: dt.timedelta, now: dt.datetime | None = None
) -> x509.CertificateBuilder:
    """A certificate valid from a few minutes before ``now`` for ``validity``, with a random serial number."""
    now = now or _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
    )


def key_usage(*, ca: bool) -> x509.KeyUsage:
    """Signatures only (ECDSA keys sign the TLS handshake), plus certificate and CRL signing for a CA."""
    return x509.KeyUsage(
        digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, encipher_only=False, decipher_only=False,
    )


def new_ca(name: str, organization: str, *, validity: dt.timedelta = VALIDITY, now: dt.datetime | None = None) -> KeyPair:
    """A self-signed CA (ECDSA P-256) with common name ``name`` in ``organization``."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    cert = (
        certificate_builder(subject, subject, key.public_key(), validity, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def new_serving(
    hosts: list[str], *, ca: KeyPair | None = None, organization: str = "",
    validity: dt.timedelta = VALIDITY, now: dt.datetime | None = None,
) -> KeyPair:
    """A serving certificate (ECDSA P-256) for ``hosts`` (the first is the common name), signed by ``ca`` or, without
    one, by itself."""
    if not hosts:
        raise ValueError("a serving certificate needs at least one host")
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    subject = x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64])])
    if ca is None:
        issuer, signing_key = subject, key
    else:
        ca_cert = x509.load_pem_x509_certificate(ca.cert)
        issuer, signing_key = ca_cert.subject, serialization.load_pem_private_key(ca.key, password=None)
    builder = (
        certificate_builder(subject, issuer, key.public_key(), validity, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(subject_alt_names(hosts)), critical=False)
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    cert = builder.sign(signing_key, hashes.SHA256())
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def ca_problem(ca: KeyPair, *, now: dt.datetime | None = None, lookahead: dt.timedelta = LOOKAHEAD) -> str | None:
    """Why ``ca`` cannot sign serving certificates any more (None: it can)."""
    now = now or _now()
    try:
        cert = x509.load_pem_x509_certificate(ca.cert)
        key = serialization.load_pem_private_key(ca.key, password=None)
    except _UNREADABLE as exc:
        return f"the CA does not parse ({exc})"
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        return "the CA certificate is not a CA"
    if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
        return "the CA key does not match the CA certificate"
    return _validity_problem("the CA", cert, now, lookahead)


def serving_problem(
    artifacts: Artifacts, hosts: list[str], *, now: dt.datetime | None = None, lookahead: dt.timedelta = LOOKAHEAD
) -> str | None:
    """Why the serving certificate must be reissued (None: it is fine). Assumes the CA is sound."""
    now = now or _now()
    try:
        cert = x509.load_pem_x509_certificate(artifacts.serving.cert)
        key = serialization.load_pem_private_key(artifacts.serving.key, password=None)
        ca_cert = x509.load_pem_x509_certificate(artifacts.ca.cert)
    except _UNREADABLE as exc:
        return f"the serving certificate does not parse ({exc})"
    if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
        return "the serving key does not match the serving certificate"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (*_UNREADABLE, InvalidSignature):
        return "the serving certificate was not signed by the CA"
    missing = [h for h in hosts if h not in certificate_hosts(cert)]
    if missing:
        return "the serving certificate does not name " + ", ".join(missing)
    return _validity_problem("the serving certificate", cert, now, lookahead)


def certificate_hosts(cert: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses a certificate is valid for."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {*sans.get_values_for_type(x509.DNSName), *(str(ip) for ip in sans.get_values_for_type(x509.IPAddress))}


def _validity_problem(what: str, cert: x509.Certificate, now: dt.datetime, lookahead: dt.timedelta) -> str | None:
    if cert.not_valid_before_utc > now:
        return f"{what} is not valid before {cert.not_valid_before_utc.isoformat()}"
    if cert.not_valid_after_utc <= now + lookahead:
        return f"{what} expires at {cert.not_valid_after_utc.isoformat()}"
    return None


def refresh(
    current: Artifacts | None, hosts: list[str], *, ca_name: str, organization: str,
    now: dt.datetime | None = None, lookahead: dt.timedelta = LOOKAHEAD, validity: dt.timedelta = VALIDITY,
) -> tuple[Artifacts | None, str]:
    """New artifacts when ``current`` does not do (with the reason), else ``(None, "")``.

    A sound CA is kept and only the serving certificate is reissued, so the trusted bundle stays the same.
    """
    now = now or _now()
    if current is None:
        reason = "no certificates yet"
        ca = None
    else:
        reason = ca_problem(current.ca, now=now, lookahead=lookahead) or ""
        ca = None if reason else current.ca
        if not reason:
            reason = serving_problem(current, hosts, now=now, lookahead=lookahead) or ""
            if not reason:
                return None, ""
    ca = ca or new_ca(ca_name, organization, validity=validity, now=now)
    serving = new_serving(hosts, ca=ca, organization=organization, validity=validity, now=now)
    return Artifacts(ca, serving), reason


# --------------------------------------------------------------------------------------------- files


def write_file(path: Path, content: bytes, mode: int = 0o644) -> bool:
    """Replace ``path`` with ``content`` in one step (readers never see half a file); False if it already held it."""
    try:
        if path.read_bytes() == content:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def write_pair(directory: Path, pair: KeyPair, *, cert_name: str = TLS_CERT, key_name: str = TLS_KEY) -> bool:
    """Write the pair into ``directory`` (key first, private); True if anything changed."""
    changed = write_file(directory / key_name, pair.key, 0o600)
    return write_file(directory / cert_name, pair.cert) or changed


def bootstrap(directory: Path, hosts: list[str], *, cert_name: str = TLS_CERT, key_name: str = TLS_KEY) -> bool:
    """A self-signed pair for ``hosts``, valid 24 hours, written unless the folder already has both files."""
    if (directory / cert_name).exists() and (directory / key_name).exists():
        return False
    write_pair(directory, new_serving(hosts, validity=BOOTSTRAP_VALIDITY), cert_name=cert_name, key_name=key_name)
    log.info("wrote a bootstrap self-signed webhook certificate", extra={"dir": str(directory)})
    return True


# --------------------------------------------------------------------------------------------- rotator


@dataclass(frozen=True)
class WebhookConfiguration:
    """A webhook configuration whose webhooks must trust the CA."""

    resource: Resource
    name: str


class CertRotator:
    """Keeps the Secret, the certificate folder and the configurations' ``caBundle`` right; see the module doc."""

    def __init__(
        self,
        client: Client,
        *,
        namespace: str,
        secret_name: str,
        hosts: list[str],
        cert_dir: Path,
        webhooks: list[WebhookConfiguration],
        ca_name: str,
        ca_organization: str,
        cert_name: str = TLS_CERT,
        key_name: str = TLS_KEY,
        check_interval: float = CHECK_INTERVAL,
        lookahead: dt.timedelta = LOOKAHEAD,
        validity: dt.timedelta = VALIDITY,
        on_files_written: Callable[[], Any] | None = None,
    ):
        """``on_files_written`` is called after new files are written (the server reloads them at once)."""
        self.client = client
        self.namespace = namespace
        self.secret_name = secret_name
        self.hosts = hosts
        self.cert_dir = Path(cert_dir)
        self.webhooks = webhooks
        self.ca_name = ca_name
        self.ca_organization = ca_organization
        self.cert_name = cert_name
        self.key_name = key_name
        self.check_interval = check_interval
        self.lookahead = lookahead
        self.validity = validity
        self.on_files_written = on_files_written
        self.ready = asyncio.Event()  # set once the server has the Secret's pair and the API server trusts its CA
        self._wake = asyncio.Event()

    def readiness(self) -> str | None:
        """A readiness check: None once the webhook serves the certificate the API server trusts."""
        return None if self.ready.is_set() else "the webhook certificates are not in place yet"

    # -- one pass ----------------------------------------------------------------------------------

    async def sync(self) -> None:
        """Make the Secret, the folder and every caBundle right (raises on API failures; run again to retry)."""
        artifacts = await self.ensure_secret()
        written = write_file(self.cert_dir / CA_CERT, artifacts.ca.cert)
        if write_pair(self.cert_dir, artifacts.serving, cert_name=self.cert_name, key_name=self.key_name):
            log.info("wrote the webhook certificates from the Secret", extra={"dir": str(self.cert_dir)})
            written = True
        if written and self.on_files_written is not None:
            self.on_files_written()
        for webhook in self.webhooks:
            await self.inject_ca(webhook, artifacts.ca.cert)
        self.ready.set()

    async def ensure_secret(self) -> Artifacts:
        """The Secret's artifacts, after writing new ones when they do not do."""
        for _ in range(5):
            secret = await self.client.get_or_none(SECRETS, self.secret_name, self.namespace)
            current = Artifacts.from_secret_data(secret.get("data")) if secret else None
            fresh, reason = refresh(
                current, self.hosts, ca_name=self.ca_name, organization=self.ca_organization,
                lookahead=self.lookahead, validity=self.validity,
            )
            if fresh is None:
                assert current is not None
                return current
            log.info(
                "writing new webhook certificates",
                extra={"secret": f"{self.namespace}/{self.secret_name}", "reason": reason},
            )
            try:
                if secret is None:
                    await self.client.create(SECRETS, {
                        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": self.secret_name, "namespace": self.namespace},
                        "data": fresh.secret_data(),
                    })
                else:
                    # Other keys are kept; the resourceVersion read makes a concurrent rotation fail with Conflict.
                    secret["data"] = {**(secret.get("data") or {}), **fresh.secret_data()}
                    await self.client.update(SECRETS, secret)
            except (AlreadyExists, Conflict):
                continue  # another replica wrote first: adopt its certificates if they do
            return fresh
        raise Conflict(409, "Conflict", f"Secret {self.namespace}/{self.secret_name} kept changing while rotating")

    async def inject_ca(self, webhook: WebhookConfiguration, ca_cert: bytes) -> None:
        """Set ``caBundle`` of every webhook in the configuration to ``ca_cert`` (missing configuration: nothing)."""
        bundle = base64.b64encode(ca_cert).decode()
        for _ in range(5):
            try:
                config = await self.client.get(webhook.resource, webhook.name)
            except NotFound:
                log.info("webhook configuration not found; its caBundle is set once it exists",
                         extra={"kind": webhook.resource.kind, "configuration": webhook.name})
                return
            entries = config.get("webhooks") or []
            stale = [w for w in entries if (w.get("clientConfig") or {}).get("caBundle") != bundle]
            if not stale:
                return
            for entry in stale:
                entry.setdefault("clientConfig", {})["caBundle"] = bundle
            try:
                await self.client.update(webhook.resource, config)
            except Conflict:
                continue
            log.info("set caBundle", extra={"kind": webhook.resource.kind, "configuration": webhook.name,
                                            "webhooks": [w.get("name") for w in stale]})
            return
        raise Conflict(409, "Conflict", f"{webhook.resource.kind} {webhook.name} kept changing while setting caBundle")

    # -- running -----------------------------------------------------------------------------------

    def _informers(self) -> list[Informer]:
        informers = [Informer(self.client, SECRETS, namespace=self.namespace,
                              field_selector=f"metadata.name={self.secret_name}")]
        informers += [Informer(self.client, w.resource, field_selector=f"metadata.name={w.name}") for w in self.webhooks]
        for informer in informers:
            informer.add_handler(
                on_add=lambda _obj: self._wake.set(),
                on_update=lambda _old, _new: self._wake.set(),
                on_delete=lambda _obj: self._wake.set(),
            )
        return informers

    async def run(self) -> None:
        """Sync now, again on any change of the Secret or the configurations, and every ``check_interval``."""
        informers = self._informers()
        for informer in informers:
            informer.start()
        delay = 0.0
        try:
            while True:
                self._wake.clear()
                try:
                    await self.sync()
                    delay = 0.0
                    timeout = self.check_interval
                except (ApiError, OSError, asyncio.TimeoutError) as exc:
                    delay = min(max(delay * 2, 1.0), 60.0)
                    timeout = delay * random.uniform(1.0, 1.2)
                    log.warning("webhook certificate sync failed; retrying",
                                extra={"error": str(exc), "retryIn": round(timeout, 1)})
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
        finally:
            await asyncio.gather(*(informer.stop() for informer in informers), return_exceptions=True)
