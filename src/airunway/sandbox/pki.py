"""Certificates and keys for the local control plane, made with ``cryptography``.

One self-signed CA signs the API server's serving certificate, one serving
certificate for kube-controller-manager and kube-scheduler, and a client
certificate for each component; a separate RSA key pair signs service-account
tokens. Everything is written as PEM files into the sandbox's state folder.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airunway.kube.certs import certificate_builder, key_usage

# The first address of the service range: the in-cluster `kubernetes` Service.
SERVICE_CIDR = "10.0.0.0/24"
KUBERNETES_SERVICE_IP = "10.0.0.1"

# Client identities: file stem -> (common name, organisations).
CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("airunway-admin", ("system:masters",)),
    "controller-manager": ("system:kube-controller-manager", ()),
    "scheduler": ("system:kube-scheduler", ()),
}


@dataclass(frozen=True)
class PKI:
    """Paths of the PEM files in one folder."""

    root: Path

    def cert(self, stem: str) -> Path:
        return self.root / f"{stem}.crt"

    def key(self, stem: str) -> Path:
        return self.root / f"{stem}.key"

    @property
    def ca(self) -> Path:
        return self.cert("ca")

    @property
    def sa_private(self) -> Path:
        return self.root / "sa.key"

    @property
    def sa_public(self) -> Path:
        return self.root / "sa.pub"


def _write_key(path: Path, key) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
    return certificate_builder(subject, issuer, public_key, dt.timedelta(days=days))


def create_pki(root: Path, days: int = 365) -> PKI:
    """Write a fresh CA, serving and client certificates and the service-account key pair."""
    root.mkdir(parents=True, exist_ok=True)
    pki = PKI(root)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("airunway-sandbox-ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.key("ca"), ca_key)

    def issue(stem: str, cn: str, orgs: tuple[str, ...], server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(_name(cn, orgs), ca_name, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if server:
            names: list[x509.GeneralName] = [
                x509.DNSName(n)
                for n in (
                    "localhost",
                    "kubernetes",
                    "kubernetes.default",
                    "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local",
                )
            ]
            names += [
                x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1", KUBERNETES_SERVICE_IP)
            ]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        pki.cert(stem).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(pki.key(stem), key)

    issue("apiserver", "kube-apiserver", (), server=True)
    # kube-controller-manager and kube-scheduler serve their health endpoints on loopback with this one.
    issue("components", "airunway-sandbox-components", (), server=True)
    for stem, (cn, orgs) in CLIENTS.items():
        issue(stem, cn, orgs, server=False)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(pki.sa_private, sa_key)
    pki.sa_public.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki
