"""A container registry stand-in on 127.0.0.1 that answers the OCI distribution API the way public registries do:
anonymous bearer tokens, a multi-platform index, per-platform manifests and image config blobs."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
TOKEN = "anonymous-pull-token"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class Registry:
    """Serves ``repository:tag`` images added with :meth:`add`; records the requests it saw."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.tags: dict[tuple[str, str], str] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                registry.requests.append(self.path)
                if self.path.startswith("/token"):
                    return self._send(200, "application/json", json.dumps({"token": TOKEN}).encode())
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    realm = f"http://127.0.0.1:{registry.port}/token"
                    self.send_response(401)
                    self.send_header("WWW-Authenticate",
                                     f'Bearer realm="{realm}",service="registry.test",scope="repository:pull"')
                    self.end_headers()
                    return None
                parts = self.path.split("/")
                repository, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
                key = ref if ref.startswith("sha256:") else registry.tags.get((repository, ref))
                if kind not in ("manifests", "blobs") or key not in registry.blobs:
                    return self._send(404, "application/json", b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                media_type, body = registry.blobs[key]
                return self._send(200, media_type, body, digest=key)

            def _send(self, code: int, media_type: str, body: bytes, digest: str = "") -> None:
                self.send_response(code)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                if digest:
                    self.send_header("Docker-Content-Digest", digest)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _blob(self, media_type: str, body: bytes) -> str:
        digest = digest_of(body)
        self.blobs[digest] = (media_type, body)
        return digest

    def add(self, repository: str, tag: str, created: str, revision: str) -> str:
        """Add a one-platform image under ``repository:tag``; return the index digest (what the tag resolves to)."""
        config = json.dumps({"created": created, "architecture": "amd64", "os": "linux",
                             "config": {"Labels": {"org.opencontainers.image.revision": revision}}}).encode()
        config_digest = self._blob("application/vnd.oci.image.config.v1+json", config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": config_digest, "size": len(config)}, "layers": []}).encode()
        manifest_digest = self._blob(MANIFEST_TYPE, manifest)
        index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [
            {"mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": len(manifest),
             "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
        index_digest = self._blob(INDEX_TYPE, index)
        self.tags[(repository, tag)] = index_digest
        return index_digest

    def __enter__(self) -> "Registry":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
