/** The result of the last action (a toast that stays until the next navigation). */
export function Notice({ text }: { text?: string }) {
  if (!text) return null;
  return (
    <output className="fixed block right-4 bottom-4 left-4 z-40 rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg sm:left-auto sm:max-w-sm dark:bg-slate-100 dark:text-slate-900">
      {text.slice(0, 300)}
    </output>
  );
}
