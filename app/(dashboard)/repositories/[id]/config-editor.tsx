"use client";

import { useActionState } from "react";
import { type ConfigState, saveConfig } from "../actions.ts";

/** The repository's poolguard.yml override, validated on save; errors name the key and line. */
export function ConfigEditor({ repositoryId, initial, canEdit }: { repositoryId: string; initial: string; canEdit: boolean }) {
  const [state, action, pending] = useActionState<ConfigState, FormData>(saveConfig, { ok: true, message: null, line: null, text: initial });
  const describedBy = state.message ? "config-status" : undefined;
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="repositoryId" value={repositoryId} />
      <label htmlFor="config" className="block text-sm font-medium">
        poolguard.yml <span className="muted font-normal">(empty: use the file in the repository)</span>
      </label>
      <textarea
        id="config"
        name="config"
        defaultValue={state.text}
        key={state.text}
        readOnly={!canEdit}
        rows={12}
        spellCheck={false}
        aria-invalid={!state.ok}
        aria-describedby={describedBy}
        className={`input w-full font-mono text-xs ${state.ok ? "" : "border-red-500 dark:border-red-500"}`}
        placeholder={"rules:\n  engine-per-call: off\nignore: [\"migrations/**\"]"}
      />
      {state.message ? (
        <p id="config-status" role={state.ok ? "status" : "alert"} className={`text-sm ${state.ok ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"}`}>
          {state.message}
        </p>
      ) : null}
      {canEdit ? (
        <button type="submit" disabled={pending} className="button-primary">
          {pending ? "Checking…" : "Validate and save"}
        </button>
      ) : null}
    </form>
  );
}
