import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { toast } from "../components/ui";
import { api, authToken, hfToken } from "../lib/api";

export function LoginPage({ error, onLogin }: { error?: string; onLogin: (token: string) => void }) {
  const [pasting, setPasting] = useState(false);
  const [token, setToken] = useState("");
  return (
    <main className="center" style={{ minHeight: "100%" }}>
      <div className="card stack" style={{ width: "min(440px, 100%)" }}>
        <h1>AIRunway</h1>
        <p className="muted" style={{ margin: 0 }}>Authentication Required</p>
        {error && <div className="alert red" role="alert">{error}</div>}
        <p style={{ margin: 0 }}>Run this command in your terminal to authenticate:</p>
        <pre className="code">airunway login</pre>
        <p className="muted small" style={{ margin: 0 }}>It opens this page with your token. Any Kubernetes token the cluster accepts works, for example <span className="mono">kubectl create token &lt;service-account&gt;</span>.</p>
        <div className="row">
          <button className="btn" onClick={() => window.location.reload()}>Check Again</button>
          <button className="btn" onClick={() => setPasting(true)}>Paste Token</button>
        </div>
        {pasting && (
          <form className="stack" onSubmit={(e) => { e.preventDefault(); if (token.trim()) onLogin(token.trim()); }}>
            <label className="field"><span className="name">Paste Token Manually</span>
              <input type="password" placeholder="eyJhbG..." value={token} onChange={(e) => setToken(e.target.value)} autoFocus /></label>
            <div className="row"><button className="btn primary" type="submit">Login</button><button className="btn" type="button" onClick={() => setPasting(false)}>Cancel</button></div>
          </form>
        )}
      </div>
    </main>
  );
}

export function HuggingFaceCallbackPage() {
  const navigate = useNavigate();
  const ran = useRef(false);
  const [state, setState] = useState<{ phase: "working" | "done" | "failed"; message: string }>({ phase: "working", message: "" });
  useEffect(() => {
    if (ran.current) return;
    ran.current = true;
    const params = new URLSearchParams(window.location.search);
    const expected = sessionStorage.getItem("hf_oauth_state");
    sessionStorage.removeItem("hf_oauth_state");
    (async () => {
      if (params.get("error")) throw new Error(params.get("error_description") ?? params.get("error")!);
      const code = params.get("code");
      if (!code) throw new Error("No authorization code received from HuggingFace");
      if (!expected || params.get("state") !== expected) throw new Error("Invalid state parameter. This may be a security issue. Please try again.");
      const token = await api.post<{ accessToken: string; user?: { name?: string; fullname?: string } }>(
        "/oauth/huggingface/token-with-state", { code, state: expected });
      hfToken.set(token.accessToken);
      const saved = await api.post<{ user?: { name?: string; fullname?: string } }>("/secrets/huggingface", { accessToken: token.accessToken });
      const who = saved.user?.fullname ?? saved.user?.name ?? token.user?.name ?? "HuggingFace user";
      setState({ phase: "done", message: `Welcome, ${who}! Redirecting to settings...` });
      setTimeout(() => {
        navigate("/settings?tab=integrations", { replace: true });
        toast("HuggingFace Connected", `Successfully connected as ${who}`, "success");
      }, 2000);
    })().catch((e) => setState({ phase: "failed", message: (e as Error).message }));
  }, [navigate]);
  return (
    <main className="center" style={{ minHeight: "100%" }}>
      <div className="card stack" style={{ width: "min(440px, 100%)" }}>
        {state.phase === "working" ? <h1>Connecting to HuggingFace</h1> : state.phase === "done" ? (
          <><h1>Connected Successfully</h1><p>{state.message}</p></>
        ) : (
          <><h1>Connection Failed</h1><div className="alert red" role="alert">{state.message}</div><Link className="btn" to="/settings?tab=integrations">Back to Settings</Link></>
        )}
      </div>
    </main>
  );
}

/** A token in the address (#token=…) from `airunway login` is stored and removed from the address. */
export function takeTokenFromHash(): void {
  const match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
  if (match) {
    authToken.set(decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}
