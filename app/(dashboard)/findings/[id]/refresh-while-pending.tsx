"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Re-render the page every few seconds while a fix pull request is being opened. */
export function RefreshWhilePending({ everyMs = 2000 }: { everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [router, everyMs]);
  return null;
}
