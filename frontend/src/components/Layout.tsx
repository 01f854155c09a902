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

// Navigation icons drawn inline (24×24 strokes), so the shell needs no icon font.
const ICONS: Record<string, ReactNode> = {
  "/": <><path d="M12 2 3 7l9 5 9-5-9-5z" /><path d="m3 12 9 5 9-5" /><path d="m3 17 9 5 9-5" /></>,
  "/deployments": <><rect x="3" y="4" width="18" height="6" rx="1.5" /><rect x="3" y="14" width="18" height="6" rx="1.5" /><path d="M7 7h.01M7 17h.01" /></>,
  "/settings": <><circle cx="12" cy="12" r="3" /><path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" /></>,
};

export function Icon({ path }: { path: string }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="2"
      strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">{ICONS[path]}</svg>
  );
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
    <NavLink to={to} end={to === "/"} className={({ isActive }) => (isActive ? "active" : undefined)}><Icon path={to} />{label}</NavLink>
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
          <span data-testid="header-connection"><Connection /></span>
          {cluster?.clusterName && <span className="badge mono cluster-name" title={`Cluster ${cluster.clusterName}`} data-testid="cluster-name">{cluster.clusterName}</span>}
          <button className="btn ghost small" onClick={toggle} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀ Light" : "☾ Dark"}
          </button>
        </header>
        <main className="content" id="main">{children}</main>
      </div>
    </div>
  );
}
