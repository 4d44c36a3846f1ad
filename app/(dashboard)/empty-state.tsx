import type { ReactNode } from "react";

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center dark:border-slate-700 dark:bg-slate-900">
      <h2 className="text-lg font-semibold">{title}</h2>
      <div className="muted mx-auto mt-2 max-w-xl text-sm">{children}</div>
    </div>
  );
}

const severityStyles: Record<string, string> = {
  error: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  warning: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
  info: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`rounded px-2 py-0.5 text-xs font-medium ${severityStyles[severity] ?? "bg-slate-100 dark:bg-slate-800"}`}>{severity}</span>;
}

const statusStyles: Record<string, string> = {
  open: "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900",
  fixed: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  ignored: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`rounded px-2 py-0.5 text-xs font-medium ${statusStyles[status] ?? "bg-slate-100 dark:bg-slate-800"}`}>{status}</span>;
}
