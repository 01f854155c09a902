"""Webhook certificates (kube/certs.py): what is generated, when it is regenerated, and the rotator's writes of the
Secret, the certificate folder and caBundle (against an in-memory API)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airunway.kube import certs
from airunway.kube.errors import AlreadyExists, Conflict, NotFound
from airunway.kube.resources import SECRETS

HOSTS = certs.service_hosts("airunway-webhook-service", "airunway-system", ["127.0.0.1"])
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


def fresh(hosts=HOSTS, now=NOW, **kw) -> certs.Artifacts:
    artifacts, reason = certs.refresh(None, hosts, ca_name="airunway-ca", organization="airunway", now=now, **kw)
    assert artifacts is not None and reason == "no certificates yet"
    return artifacts


def decision(current, hosts=HOSTS, now=NOW):
    return certs.refresh(current, hosts, ca_name="airunway-ca", organization="airunway", now=now)


def test_service_hosts():
    assert HOSTS == ["airunway-webhook-service.airunway-system.svc",
                     "airunway-webhook-service.airunway-system.svc.cluster.local", "127.0.0.1"]
    assert certs.service_hosts("s", "n", ["s.n.svc", " ", "::1"]) == ["s.n.svc", "s.n.svc.cluster.local", "::1"]


def test_generated_certificates():
    artifacts = fresh()
    ca = x509.load_pem_x509_certificate(artifacts.ca.cert)
    serving = x509.load_pem_x509_certificate(artifacts.serving.cert)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "airunway-ca"
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "airunway"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    serving.verify_directly_issued_by(ca)
    assert certs.certificate_hosts(serving) == set(HOSTS)
    assert not serving.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ExtendedKeyUsageOID.SERVER_AUTH in serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert serving.not_valid_before_utc < NOW < serving.not_valid_after_utc
    assert serving.not_valid_after_utc - NOW == certs.VALIDITY
    assert decision(artifacts) == (None, "")


def test_secret_data_round_trip():
    artifacts = fresh()
    data = artifacts.secret_data()
    assert sorted(data) == ["ca.crt", "ca.key", "tls.crt", "tls.key"]
    assert base64.b64decode(data["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert certs.Artifacts.from_secret_data(data) == artifacts
    assert certs.Artifacts.from_secret_data({k: v for k, v in data.items() if k != "ca.key"}) is None
    assert certs.Artifacts.from_secret_data({**data, "tls.key": "not base64!"}) is None
    assert certs.Artifacts.from_secret_data(None) is None


def replace(artifacts, **changes) -> certs.Artifacts:
    ca = certs.KeyPair(changes.get("ca_cert", artifacts.ca.cert), changes.get("ca_key", artifacts.ca.key))
    serving = certs.KeyPair(changes.get("cert", artifacts.serving.cert), changes.get("key", artifacts.serving.key))
    return certs.Artifacts(ca, serving)


def test_everything_is_regenerated_when_the_ca_does_not_do():
    artifacts, other = fresh(), fresh()
    cases = {
        "the CA does not parse": replace(artifacts, ca_cert=b"garbage"),
        "the CA key does not match": replace(artifacts, ca_key=other.ca.key),
        "the CA certificate is not a CA": replace(artifacts, ca_cert=artifacts.serving.cert, ca_key=artifacts.serving.key),
    }
    for expected, current in cases.items():
        new, reason = decision(current)
        assert new is not None and reason.startswith(expected), reason
        assert new.ca != artifacts.ca and decision(new) == (None, "")
    # Close to expiry (within the 90 days look-ahead): both are renewed, the CA first.
    late = NOW + certs.VALIDITY - certs.LOOKAHEAD + dt.timedelta(days=1)
    new, reason = decision(artifacts, now=late)
    assert reason.startswith("the CA expires") and new.ca != artifacts.ca
    assert decision(artifacts, now=late - dt.timedelta(days=2)) == (None, "")


def test_only_the_serving_certificate_is_reissued_while_the_ca_is_sound():
    artifacts, other = fresh(), fresh()
    short = certs.new_serving(HOSTS, ca=artifacts.ca, validity=dt.timedelta(days=30), now=NOW)
    cases = {
        "the serving certificate does not parse": replace(artifacts, cert=b"garbage"),
        "the serving key does not match": replace(artifacts, key=other.serving.key),
        "the serving certificate was not signed by the CA": replace(artifacts, cert=other.serving.cert,
                                                                    key=other.serving.key),
        "the serving certificate expires": replace(artifacts, cert=short.cert, key=short.key),
    }
    for expected, current in cases.items():
        new, reason = decision(current)
        assert new is not None and reason.startswith(expected), reason
        assert new.ca == artifacts.ca and new.serving != current.serving
        assert decision(new) == (None, "")
    new, reason = decision(artifacts, hosts=[*HOSTS, "10.1.2.3"])
    assert reason == "the serving certificate does not name 10.1.2.3" and new.ca == artifacts.ca
    future = fresh(now=NOW + dt.timedelta(days=2))
    new, reason = decision(replace(future, ca_cert=future.ca.cert), now=NOW)
    assert new is not None and "not valid before" in reason


def test_files_are_written_atomically_and_only_when_changed(tmp_path):
    pair = fresh().serving
    assert certs.write_pair(tmp_path, pair) is True
    assert (tmp_path / "tls.crt").read_bytes() == pair.cert and (tmp_path / "tls.key").read_bytes() == pair.key
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    assert certs.write_pair(tmp_path, pair) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tls.crt", "tls.key"]  # no temporary files left


def test_bootstrap_writes_a_short_self_signed_pair_only_into_an_empty_folder(tmp_path):
    assert certs.bootstrap(tmp_path / "certs", HOSTS) is True
    cert = x509.load_pem_x509_certificate((tmp_path / "certs" / "tls.crt").read_bytes())
    assert cert.issuer == cert.subject and certs.certificate_hosts(cert) == set(HOSTS)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == certs.BOOTSTRAP_VALIDITY + certs.CLOCK_SKEW
    before = (tmp_path / "certs" / "tls.crt").read_bytes()
    assert certs.bootstrap(tmp_path / "certs", HOSTS) is False
    assert (tmp_path / "certs" / "tls.crt").read_bytes() == before


# --------------------------------------------------------------------------------------------- the rotator


class FakeApi:
    """Secrets and webhook configurations in memory, with resourceVersion checks like the API server's."""

    def __init__(self) -> None:
        self.objects: dict[tuple, dict] = {}
        self.version = 0
        self.writes: list[tuple[str, str]] = []
        self.conflicts_to_inject = 0

    def _key(self, resource, name, namespace=None):
        return (resource.plural, namespace or "", name)

    def put(self, resource, obj):
        self.version += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.objects[self._key(resource, obj["metadata"]["name"], obj["metadata"].get("namespace"))] = obj
        return copy.deepcopy(obj)

    async def get(self, resource, name, namespace=None):
        try:
            return copy.deepcopy(self.objects[self._key(resource, name, namespace)])
        except KeyError:
            raise NotFound(404, "NotFound", f"{resource.plural} {name!r} not found") from None

    async def get_or_none(self, resource, name, namespace=None):
        try:
            return await self.get(resource, name, namespace)
        except NotFound:
            return None

    async def create(self, resource, obj, namespace=None):
        if self._key(resource, obj["metadata"]["name"], obj["metadata"].get("namespace")) in self.objects:
            raise AlreadyExists(409, "AlreadyExists", "exists")
        self.writes.append(("create", resource.plural))
        return self.put(resource, obj)

    async def update(self, resource, obj):
        meta = obj["metadata"]
        current = self.objects.get(self._key(resource, meta["name"], meta.get("namespace")))
        if self.conflicts_to_inject:
            self.conflicts_to_inject -= 1
            self.put(resource, current)  # someone else wrote in between
            raise Conflict(409, "Conflict", "the object has been modified")
        if current is None or current["metadata"]["resourceVersion"] != meta.get("resourceVersion"):
            raise Conflict(409, "Conflict", "the object has been modified")
        self.writes.append(("update", resource.plural))
        return self.put(resource, obj)


def webhook_config(resource, name, *hooks: str) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": resource.kind, "metadata": {"name": name},
            "webhooks": [{"name": h, "clientConfig": {"url": "https://127.0.0.1:9443/x"}} for h in hooks]}


@pytest.fixture
def api():
    fake = FakeApi()
    fake.put(certs.VALIDATING_WEBHOOK_CONFIGURATIONS,
             webhook_config(certs.VALIDATING_WEBHOOK_CONFIGURATIONS, "v-config", "v1.example", "v2.example"))
    fake.put(certs.MUTATING_WEBHOOK_CONFIGURATIONS,
             webhook_config(certs.MUTATING_WEBHOOK_CONFIGURATIONS, "m-config", "m.example"))
    return fake


def rotator(api, cert_dir: Path, on_files_written=None) -> certs.CertRotator:
    return certs.CertRotator(
        api, namespace="ns", secret_name="webhook-cert", hosts=HOSTS, cert_dir=cert_dir,
        webhooks=[certs.WebhookConfiguration(certs.VALIDATING_WEBHOOK_CONFIGURATIONS, "v-config"),
                  certs.WebhookConfiguration(certs.MUTATING_WEBHOOK_CONFIGURATIONS, "m-config"),
                  certs.WebhookConfiguration(certs.MUTATING_WEBHOOK_CONFIGURATIONS, "absent")],
        ca_name="airunway-ca", ca_organization="airunway", on_files_written=on_files_written,
    )


def bundles(api) -> list[str]:
    return [w["clientConfig"].get("caBundle") for (kind, _, _), obj in sorted(api.objects.items())
            if kind.endswith("webhookconfigurations") for w in obj["webhooks"]]


async def test_rotator_creates_the_secret_files_and_ca_bundles(api, tmp_path):
    reloads = []
    r = rotator(api, tmp_path, on_files_written=lambda: reloads.append(1))
    assert r.readiness() is not None
    await r.sync()
    assert r.readiness() is None and reloads == [1]
    secret = await api.get(SECRETS, "webhook-cert", "ns")
    artifacts = certs.Artifacts.from_secret_data(secret["data"])
    assert secret["type"] == "Opaque" and artifacts is not None
    assert (tmp_path / "tls.crt").read_bytes() == artifacts.serving.cert
    assert (tmp_path / "tls.key").read_bytes() == artifacts.serving.key
    assert (tmp_path / "ca.crt").read_bytes() == artifacts.ca.cert
    assert bundles(api) == [base64.b64encode(artifacts.ca.cert).decode()] * 3
    # A second pass changes nothing.
    writes = list(api.writes)
    await r.sync()
    assert api.writes == writes and reloads == [1]


async def test_rotator_fills_an_empty_placeholder_secret_and_keeps_its_other_keys(api, tmp_path):
    api.put(SECRETS, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                      "metadata": {"name": "webhook-cert", "namespace": "ns", "labels": {"a": "b"}},
                      "data": {"extra": base64.b64encode(b"keep").decode()}})
    await rotator(api, tmp_path).sync()
    secret = await api.get(SECRETS, "webhook-cert", "ns")
    assert secret["metadata"]["labels"] == {"a": "b"} and base64.b64decode(secret["data"]["extra"]) == b"keep"
    assert certs.Artifacts.from_secret_data(secret["data"]) is not None
    assert api.writes[0] == ("update", "secrets")


async def test_rotator_adopts_valid_certificates_and_restores_a_cleared_bundle(api, tmp_path):
    existing = fresh(now=dt.datetime.now(dt.timezone.utc))
    api.put(SECRETS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-cert", "namespace": "ns"},
                      "data": existing.secret_data()})
    r = rotator(api, tmp_path)
    await r.sync()
    assert ("update", "secrets") not in api.writes and ("create", "secrets") not in api.writes
    assert (tmp_path / "tls.crt").read_bytes() == existing.serving.cert
    config = await api.get(certs.VALIDATING_WEBHOOK_CONFIGURATIONS, "v-config")
    config["webhooks"][1]["clientConfig"].pop("caBundle")
    api.put(certs.VALIDATING_WEBHOOK_CONFIGURATIONS, config)
    await r.sync()
    assert bundles(api) == [base64.b64encode(existing.ca.cert).decode()] * 3


async def test_rotator_replaces_certificates_for_other_hosts_and_survives_conflicts(api, tmp_path):
    stale = fresh(hosts=["old.ns.svc"], now=dt.datetime.now(dt.timezone.utc))
    api.put(SECRETS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-cert", "namespace": "ns"},
                      "data": stale.secret_data()})
    api.conflicts_to_inject = 1  # another replica writes the Secret between our read and our write
    await rotator(api, tmp_path).sync()
    artifacts = certs.Artifacts.from_secret_data((await api.get(SECRETS, "webhook-cert", "ns"))["data"])
    assert artifacts.ca == stale.ca  # the CA is kept: the trusted bundle does not change
    serving = x509.load_pem_x509_certificate(artifacts.serving.cert)
    assert certs.certificate_hosts(serving) == set(HOSTS)
    assert (tmp_path / "tls.crt").read_bytes() == artifacts.serving.cert
    assert json.dumps(bundles(api)).count(base64.b64encode(stale.ca.cert).decode()) == 3
