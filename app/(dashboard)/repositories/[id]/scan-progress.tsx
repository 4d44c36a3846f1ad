"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

type Progress = { status: string; filesDone: number; filesTotal: number; findingsCount: number; error: string | null };

/** Live progress of a queued or running scan; refreshes the page when it ends. */
export function ScanProgress({ repositoryId, scanId, initial }: { repositoryId: string; scanId: string; initial: Progress }) {
  const [progress, setProgress] = useState(initial);
  const router = useRouter();
  useEffect(() => {
    let stopped = false;
    const timer = setInterval(async () => {
      const response = await fetch(`/repositories/${repositoryId}/progress?scan=${scanId}`, { cache: "no-store" }).catch(() => null);
      if (!response?.ok || stopped) return;
      const next = (await response.json()) as Progress;
      setProgress(next);
      if (next.status !== "queued" && next.status !== "running") {
        clearInterval(timer);
        router.refresh();
      }
    }, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [repositoryId, scanId, router]);
  const percent = progress.filesTotal > 0 ? Math.round((progress.filesDone / progress.filesTotal) * 100) : 0;
  return (
    <div className="card p-4" aria-live="polite">
      <p className="text-sm font-medium">
        Scan {progress.status}
        {progress.status === "running" && progress.filesTotal > 0 ? `: ${progress.filesDone} of ${progress.filesTotal} files` : ""}
      </p>
      <div className="mt-2 h-2 overflow-hidden rounded bg-slate-200 dark:bg-slate-800" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label="Scan progress">
        <div className="h-full bg-sky-600 transition-all" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
