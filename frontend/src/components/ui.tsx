import { ReactNode, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="row" role="status">
      <span className="spinner" aria-hidden="true" />
      {label && <span>{label}</span>}
    </span>
  );
}

export function Loading({ label = "Loading..." }: { label?: string }) {
  return (
    <div className="center">
      <Spinner label={label} />
    </div>
  );
}

export function Empty({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
      {action}
    </div>
  );
}

export function ErrorBox({ title, message, onRetry }: { title: string; message?: string; onRetry?: () => void }) {
  return (
    <div className="alert red" role="alert">
      <strong>{title}</strong>
      {message && <div>{message}</div>}
      {onRetry && (
        <button className="btn small" style={{ marginTop: 8 }} onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Tabs<T extends string>({
  tabs, value, onChange, label,
}: { tabs: { id: T; label: ReactNode }[]; value: T; onChange: (id: T) => void; label: string }) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((t) => (
        <button key={t.id} role="tab" aria-selected={t.id === value} type="button" onClick={() => onChange(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** A modal confirmation: focus goes to Cancel, Escape closes. */
export function ConfirmDialog({
  title, children, confirmLabel, busyLabel, busy, onConfirm, onCancel,
}: {
  title: string; children: ReactNode; confirmLabel: string; busyLabel?: string; busy?: boolean;
  onConfirm: () => void; onCancel: () => void;
}) {
  const id = useId();
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancel.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onCancel();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel]);
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={id}>
        <h2 id={id}>{title}</h2>
        <div>{children}</div>
        <div className="actions">
          <button ref={cancel} className="btn" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button className="btn danger" onClick={onConfirm} disabled={busy}>
            {busy ? busyLabel ?? confirmLabel : confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

// -- toasts: one visible at a time, replaced by the next ---------------------------------------------------

export type ToastVariant = "default" | "success" | "destructive" | "warning";
interface ToastState { id: number; title: string; description?: string; variant: ToastVariant }
let current: ToastState | null = null;
let counter = 0;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export function toast(title: string, description?: string, variant: ToastVariant = "default") {
  current = { id: ++counter, title, description, variant };
  emit();
  const id = current.id;
  setTimeout(() => {
    if (current?.id === id) {
      current = null;
      emit();
    }
  }, 5000);
}

export function Toaster() {
  const shown = useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    () => current,
  );
  if (!shown) return null;
  return (
    <div className={`toast ${shown.variant}`} role={shown.variant === "destructive" ? "alert" : "status"}>
      <strong>{shown.title}</strong>
      {shown.description && <div className="small">{shown.description}</div>}
      <button className="btn ghost small close" aria-label="Dismiss notification" onClick={() => { current = null; emit(); }}>
        ×
      </button>
    </div>
  );
}

export function CopyButton({ text, what, label = "Copy" }: { text: string; what: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      className="btn small"
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 1500);
          toast("Copied to clipboard", what, "success");
        } catch {
          toast("Copy failed", "The browser did not allow access to the clipboard", "destructive");
        }
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

export function Field({
  label, hint, error, children, htmlFor,
}: { label: string; hint?: ReactNode; error?: string; children: ReactNode; htmlFor?: string }) {
  return (
    <div className="field">
      <label className="name" htmlFor={htmlFor} style={{ fontWeight: 600, fontSize: 13 }}>{label}</label>
      {children}
      {error ? <span className="error" role="alert">{error}</span> : hint ? <span className="hint">{hint}</span> : null}
    </div>
  );
}

export function Switch({ checked, onChange, label }: { checked: boolean; onChange: (v: boolean) => void; label: string }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}
