import { ReactNode, useEffect, useState } from "react";
import { Link, NavLink, useLocation } from "react-router-dom";
import { useClusterStatus } from "../lib/queries";

type Theme = "light" | "dark";
const THEME_KEY = "airunway_theme";

export function initialTheme(): Theme {
  const stored = localStorage.getItem(THEME_KEY);
  if (stored === "light" || stored === "dark") return stored;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return [theme, () => setTheme((t) => {
    const next = t === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    return next;
  })];
}

function Crumbs() {
  const { pathname } = useLocation();
  const parts: { to?: string; label: string }[] = [];
  if (pathname === "/") parts.push({ label: "Models" });
  else if (pathname.startsWith("/deploy/")) {
    parts.push({ to: "/", label: "Models" }, { label: "Deploy" }, { label: decodeURIComponent(pathname.slice(8)) });
  } else if (pathname === "/deployments") parts.push({ label: "Deployments" });
  else if (pathname.startsWith("/deployments/")) {
    parts.push({ to: "/deployments", label: "Deployments" }, { label: decodeURIComponent(pathname.slice(13)) });
  } else if (pathname.startsWith("/settings")) parts.push({ label: "Settings" });
  return (
    <nav className="crumbs" aria-label="Breadcrumb">
      {parts.map((p, i) => (
        <span key={i} className="row">
          {i > 0 && <span aria-hidden="true">›</span>}
          {p.to ? <Link to={p.to}>{p.label}</Link> : <span aria-current={i === parts.length - 1 ? "page" : undefined}>{p.label}</span>}
        </span>
      ))}
    </nav>
  );
}

export function Connection() {
  const { data, isLoading } = useClusterStatus();
  if (isLoading) return <span className="badge"><span className="dot amber pulse" /> Connecting…</span>;
  return data?.connected
    ? <span className="badge green"><span className="dot green" /> Connected</span>
    : <span className="badge red" title={data?.error}><span className="dot red" /> Disconnected</span>;
}

export function Layout({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const [theme, toggle] = useTheme();
  const { pathname } = useLocation();
  const { data: cluster } = useClusterStatus();
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const nav = (to: string, label: string) => (
    <NavLink to={to} end={to === "/"} className={({ isActive }) => (isActive ? "active" : undefined)}>{label}</NavLink>
  );
  return (
    <div className={`shell${open ? " open" : ""}`}>
      {open && <div className="backdrop" aria-hidden="true" onClick={() => setOpen(false)} />}
      <aside className="sidebar" aria-label="Main navigation">
        <Link to="/" className="brand"><img src="/favicon.svg" alt="" width="24" height="24" /> AI Runway</Link>
        <nav className="nav stack" style={{ gap: 2 }}>
          {nav("/", "Models")}
          {nav("/deployments", "Deployments")}
          {nav("/settings", "Settings")}
        </nav>
        <div className="sidebar-foot">
          <Connection />
          {open && <button className="btn small" aria-label="Close sidebar" onClick={() => setOpen(false)}>Close</button>}
        </div>
      </aside>
      <div className="main">
        <header className="topbar">
          <button className="btn ghost menu-button" aria-label="Toggle navigation menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>☰</button>
          <Crumbs />
          <span className="spacer" />
          {cluster?.clusterName && <span className="badge mono" title="Cluster">{cluster.clusterName}</span>}
          <button className="btn ghost small" onClick={toggle} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀ Light" : "☾ Dark"}
          </button>
        </header>
        <main className="content" id="main">{children}</main>
      </div>
    </div>
  );
}
