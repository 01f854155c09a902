"""A HuggingFace Hub stand-in on 127.0.0.1 for tests: the model search, model info, config.json files, whoami-v2
and the OAuth token endpoint, answering in the Hub's formats (shapes written down from its API documentation).

``Hub.token`` is the one token it accepts; gated repositories need it. OAuth codes are issued with
:meth:`Hub.authorize` and can be exchanged once, with the right PKCE verifier.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit


def model(model_id: str, *, pipeline="text-generation", library="transformers", architectures=None, params=None,
          gated=False, downloads=1000, likes=10) -> dict:
    """A model as ``/api/models?full=true&config=true`` lists it."""
    entry = {"_id": hashlib.md5(model_id.encode()).hexdigest()[:24], "id": model_id, "modelId": model_id,
             "author": model_id.split("/")[0], "gated": gated, "downloads": downloads, "likes": likes,
             "pipeline_tag": pipeline, "library_name": library, "tags": [library, pipeline],
             "createdAt": "2025-04-28T00:00:00.000Z", "private": False}
    if architectures is not None:
        entry["config"] = {"architectures": architectures, "model_type": "x"}
    if params is not None:
        entry["safetensors"] = {"parameters": {"BF16": params}, "total": params}
    return entry


MODELS = [
    model("Qwen/Qwen3-8B", architectures=["Qwen3ForCausalLM"], params=8_190_735_360, downloads=900000),
    model("meta-llama/Llama-3.1-8B-Instruct", architectures=["LlamaForCausalLM"], params=8_030_261_248, gated="manual"),
    model("Qwen/Qwen3-8B-GGUF", library="gguf", downloads=5000),
    model("acme/qwen-8b-classifier", pipeline="text-classification", architectures=["Qwen2ForSequenceClassification"]),
    model("acme/qwen-8b-exotic", architectures=["ExoticForCausalLM"], params=8_000_000_000),
    model("google/gemma-3-4b-it", pipeline="image-text-to-text", architectures=["Gemma3ForConditionalGeneration"],
          params=4_300_079_472, gated="manual"),    # Larger than one 4×80 GB node: the deploy form's multi-node, capacity and "does not fit" paths.
    model("acme/giant-405b", architectures=["LlamaForCausalLM"], params=405_853_388_800),
]
FILES = {"Qwen/Qwen3-8B-GGUF": ["README.md", "Qwen3-8B-Q8_0.gguf", "Qwen3-8B-Q4_K_M.gguf", "params.json"]}
CONFIGS = {"Qwen/Qwen3-8B": {"architectures": ["Qwen3ForCausalLM"], "num_hidden_layers": 36, "num_attention_heads": 32,
                             "num_key_value_heads": 8, "head_dim": 128, "hidden_size": 4096,
                             "max_position_embeddings": 40960, "torch_dtype": "bfloat16"},
           "acme/giant-405b": {"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 126, "num_attention_heads": 128,
                               "num_key_value_heads": 8, "head_dim": 128, "hidden_size": 16384,
                               "max_position_embeddings": 131072, "torch_dtype": "bfloat16"}}
USER = {"type": "user", "id": "6123", "name": "sandbox-user", "fullname": "Sandbox User", "email": "user@example.org",
        "avatarUrl": "/avatars/sandbox.svg", "auth": {"type": "access_token", "accessToken": {"role": "read"}}}


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Hub:
    def __init__(self) -> None:
        self.token = "hf_" + secrets.token_hex(12)
        self.codes: dict[str, dict] = {}
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                return self.headers.get("Authorization") == f"Bearer {hub.token}"

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                hub.requests.append(self.path)
                query = parse_qs(url.query)
                path = unquote(url.path)
                if path == "/api/whoami-v2":
                    self._send(200, USER) if self._authorized() else self._send(
                        401, {"error": "Invalid credentials in Authorization header"})
                elif path == "/api/models":
                    words = query.get("search", [""])[0].lower()
                    tag = query.get("filter", [""])[0]
                    found = [m for m in MODELS if words in m["id"].lower() and m["pipeline_tag"] == tag]
                    self._send(200, found[: int(query.get("limit", ["20"])[0])])
                elif path.startswith("/api/models/"):
                    repo = path.removeprefix("/api/models/")
                    if repo not in FILES:
                        self._send(404, {"error": "Repository not found"})
                    else:
                        self._send(200, {"id": repo, "siblings": [{"rfilename": f} for f in FILES[repo]]})
                elif path == "/oauth/authorize":
                    # The consent page, agreed at once: back to the app with a code bound to the challenge.
                    code, state = hub.authorize(self.path)
                    redirect = query["redirect_uri"][0]
                    self.send_response(302)
                    self.send_header("Location", f"{redirect}?{urlencode({'code': code, 'state': state})}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path.endswith("/resolve/main/config.json"):
                    repo = path.removeprefix("/").removesuffix("/resolve/main/config.json")
                    self._send(200, CONFIGS[repo]) if repo in CONFIGS else self._send(404, {"error": "Entry not found"})
                else:
                    self._send(404, {"error": "Not found"})

            def do_POST(self) -> None:  # noqa: N802
                hub.requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/oauth/token":
                    self._send(404, {"error": "Not found"})
                    return
                grant = hub.codes.pop(form.get("code", ""), None)
                if grant is None or form.get("grant_type") != "authorization_code" \
                        or challenge_of(form.get("code_verifier", "")) != grant["challenge"] \
                        or form.get("redirect_uri") != grant["redirect_uri"] \
                        or form.get("client_id") != grant["client_id"]:
                    self._send(400, {"error": "invalid_grant"})
                    return
                self._send(200, {"access_token": hub.token, "token_type": "bearer", "expires_in": 28800,
                                 "scope": "openid profile read-repos", "id_token": "x"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorize(self, authorization_url: str) -> tuple[str, str]:
        """What the Hub's consent page does: a code bound to the request's challenge; gives (code, state)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"],
                            "client_id": query["client_id"]}
        return code, query["state"]

    def close(self) -> None:
        self.server.shutdown()
