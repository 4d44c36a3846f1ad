"use client";

import { useActionState } from "react";
import { createToken, invite, type SettingsState } from "./actions.ts";

const initial: SettingsState = { ok: true, message: null };

function Result({ state }: { state: SettingsState }) {
  if (!state.message) return null;
  return (
    <div role={state.ok ? "status" : "alert"} className={`mt-2 text-sm ${state.ok ? "" : "text-red-700 dark:text-red-400"}`}>
      <p>{state.message}</p>
      {state.secret ? (
        <input readOnly value={state.secret} aria-label="Copy this value" className="input mt-1 w-full font-mono text-xs" onFocus={(e) => e.currentTarget.select()} />
      ) : null}
    </div>
  );
}

export function InviteForm({ canInviteOwner }: { canInviteOwner: boolean }) {
  const [state, action, pending] = useActionState(invite, initial);
  return (
    <form action={action} className="text-sm">
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex min-w-48 flex-1 flex-col">
          Email
          <input name="email" type="email" required className="input mt-1" />
        </label>
        <label className="flex flex-col">
          Role
          <select name="role" defaultValue="member" className="input mt-1">
            <option value="viewer">viewer (read)</option>
            <option value="member">member (triage)</option>
            <option value="admin">admin</option>
            {canInviteOwner ? <option value="owner">owner</option> : null}
          </select>
        </label>
        <button type="submit" disabled={pending} className="button-primary">
          Invite
        </button>
      </div>
      <Result state={state} />
    </form>
  );
}

export function TokenForm() {
  const [state, action, pending] = useActionState(createToken, initial);
  return (
    <form action={action} className="text-sm">
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex min-w-48 flex-1 flex-col">
          Name
          <input name="name" required maxLength={100} placeholder="CI uploads" className="input mt-1" />
        </label>
        <label className="flex flex-col">
          Role
          <select name="role" defaultValue="member" className="input mt-1">
            <option value="viewer">viewer</option>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" disabled={pending} className="button-primary">
          Create token
        </button>
      </div>
      <Result state={state} />
    </form>
  );
}
