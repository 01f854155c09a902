import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Component, lazy, ReactNode, Suspense, useEffect, useState } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Loading, Toaster } from "./components/ui";
import { api, authToken } from "./lib/api";
import { useSettings } from "./lib/queries";
import { HuggingFaceCallbackPage, LoginPage, takeTokenFromHash } from "./pages/Auth";
import { DeploymentsPage } from "./pages/Deployments";
import { ModelsPage } from "./pages/Models";

// The larger pages load when first opened, so the catalog and the deployment list start with less to parse.
const DeployPage = lazy(() => import("./pages/Deploy").then((m) => ({ default: m.DeployPage })));
const DeploymentDetailPage = lazy(() => import("./pages/DeploymentDetail").then((m) => ({ default: m.DeploymentDetailPage })));
const SettingsPage = lazy(() => import("./pages/Settings").then((m) => ({ default: m.SettingsPage })));

const e2e = (window as { __E2E_TEST__?: boolean }).__E2E_TEST__ === true;
const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: e2e ? 0 : 5_000, retry: e2e ? false : 3 } },
});

class ErrorBoundary extends Component<{ children: ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};
  static getDerivedStateFromError(error: Error) { return { error }; }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <main className="center" style={{ minHeight: "100%" }}>
        <div className="card stack" style={{ width: "min(520px, 100%)" }}>
          <h1>Something went wrong</h1>
          <p>An unexpected error occurred. Please try refreshing the page.</p>
          <pre className="code">{this.state.error.message}</pre>
          <div className="row"><a className="btn" href="/">Go to Home</a><button className="btn" onClick={() => window.location.reload()}>Refresh Page</button></div>
        </div>
      </main>
    );
  }
}

function Guarded({ children }: { children: ReactNode }) {
  const { data, isLoading } = useSettings();
  const [token, setToken] = useState(authToken.get());
  const [error, setError] = useState<string>();
  useEffect(() => {
    const out = () => { authToken.clear(); setToken(null); setError("Session expired. Please login again."); };
    window.addEventListener("auth:unauthorized", out);
    return () => window.removeEventListener("auth:unauthorized", out);
  }, []);
  if (isLoading) return <Loading label="Loading..." />;
  if (data?.auth.enabled && !token) {
    return <LoginPage error={error} onLogin={(t) => { authToken.set(t); setToken(t); setError(undefined); queryClient.invalidateQueries(); }} />;
  }
  return <Layout><Suspense fallback={<Loading />}>{children}</Suspense></Layout>;
}

takeTokenFromHash();
// The list a deep link opens is asked for while the settings (authentication) load, not after.
if (window.location.pathname === "/deployments") {
  queryClient.prefetchQuery({ queryKey: ["deployments"], queryFn: () => api.get<{ deployments: unknown[] }>("/deployments").then((a) => a.deployments) });
}

export function App() {
  return (
    <ErrorBoundary>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <Routes>
            <Route path="/oauth/callback/huggingface" element={<HuggingFaceCallbackPage />} />
            <Route path="/login" element={<Guarded><Navigate to="/" replace /></Guarded>} />
            <Route path="/" element={<Guarded><ModelsPage /></Guarded>} />
            <Route path="/deploy/:modelId" element={<Guarded><DeployPage /></Guarded>} />
            <Route path="/deployments" element={<Guarded><DeploymentsPage /></Guarded>} />
            <Route path="/deployments/:name" element={<Guarded><DeploymentDetailPage /></Guarded>} />
            <Route path="/settings" element={<Guarded><SettingsPage /></Guarded>} />
            <Route path="/installation" element={<Navigate to="/settings?tab=runtimes" replace />} />
            <Route path="*" element={<Guarded><div className="empty"><strong>Page not found</strong><a href="/">Back to the catalog</a></div></Guarded>} />
          </Routes>
        </BrowserRouter>
        <Toaster />
      </QueryClientProvider>
    </ErrorBoundary>
  );
}
