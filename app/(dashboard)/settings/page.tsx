import { requireMember, roleAtLeast } from "../../../lib/auth/access.ts";
import { getDatabaseInfo, listApiTokens, listAuditEvents, listInstallations, listMembers, roles } from "../../../lib/db/index.ts";
import packageJson from "../../../package.json" with { type: "json" };
import { Notice } from "../notice.tsx";
import { changeRole, remove, revokeToken, switchOrganization } from "./actions.ts";
import { InviteForm, TokenForm } from "./forms.tsx";
import { when } from "../format.ts";

export const dynamic = "force-dynamic";


export default async function SettingsPage({ searchParams }: { searchParams: Promise<{ notice?: string }> }) {
  const { user, organization, organizations, role } = await requireMember();
  const { notice } = await searchParams;
  const isAdmin = roleAtLeast(role, "admin");
  const [members, tokens, installations, events] = await Promise.all([
    listMembers(organization.id),
    isAdmin ? listApiTokens(organization.id) : Promise.resolve([]),
    listInstallations(organization.id),
    isAdmin ? listAuditEvents(organization.id, { take: 50 }) : Promise.resolve([]),
  ]);
  const database = getDatabaseInfo();
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Settings</h1>

      <section aria-labelledby="organization" className="card p-4">
        <h2 id="organization" className="mb-2 text-lg font-semibold">
          Organization
        </h2>
        <p className="text-sm">
          {organization.name} <span className="muted">({organization.slug})</span> · you are <strong>{role}</strong> · signed in as {user.email}
        </p>
        {organizations.length > 1 ? (
          <form action={switchOrganization} className="mt-3 flex flex-wrap items-end gap-2 text-sm">
            <label className="flex flex-col">
              Switch to
              <select name="slug" defaultValue={organization.slug} className="input mt-1">
                {organizations.map((o) => (
                  <option key={o.slug} value={o.slug}>
                    {o.name} ({o.role})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="button-secondary">
              Switch
            </button>
          </form>
        ) : null}
      </section>

      <section aria-labelledby="members" className="card p-4">
        <h2 id="members" className="mb-2 text-lg font-semibold">
          Members
        </h2>
        <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" aria-label="Members">
          {members.map((m) => (
            <li key={m.userId} className="flex flex-wrap items-center gap-2 py-2">
              <span className="min-w-0 flex-1 break-all">
                {m.email} {m.joined ? null : <span className="muted text-xs">(invited, not signed in yet)</span>}
              </span>
              {isAdmin && m.userId !== user.id ? (
                <>
                  <form action={changeRole} className="flex items-center gap-1">
                    <input type="hidden" name="userId" value={m.userId} />
                    <label className="sr-only" htmlFor={`role-${m.userId}`}>
                      Role of {m.email}
                    </label>
                    <select id={`role-${m.userId}`} name="role" defaultValue={m.role} className="input">
                      {roles.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                    <button type="submit" className="button-secondary px-2 py-1">
                      Save
                    </button>
                  </form>
                  <form action={remove}>
                    <input type="hidden" name="userId" value={m.userId} />
                    <button type="submit" className="button-secondary px-2 py-1" aria-label={`Remove ${m.email}`}>
                      Remove
                    </button>
                  </form>
                </>
              ) : (
                <span className="muted">{m.role}</span>
              )}
            </li>
          ))}
        </ul>
        {isAdmin ? (
          <div className="mt-3">
            <h3 className="mb-1 text-sm font-semibold">Invite someone</h3>
            <InviteForm canInviteOwner={role === "owner"} />
          </div>
        ) : null}
      </section>

      {isAdmin ? (
        <section aria-labelledby="tokens" className="card p-4">
          <h2 id="tokens" className="mb-2 text-lg font-semibold">
            API tokens
          </h2>
          <p className="muted mb-2 text-sm">
            For the REST API (<code className="code-inline">/api/v1</code>) and <code className="code-inline">poolguard scan --upload</code>. Only a hash is kept.
          </p>
          {tokens.length > 0 ? (
            <ul className="mb-3 divide-y divide-slate-100 text-sm dark:divide-slate-800" aria-label="API tokens">
              {tokens.map((t) => (
                <li key={t.id} className="flex flex-wrap items-center gap-2 py-2">
                  <span className="min-w-0 flex-1">
                    {t.name} <code className="code-inline">{t.prefix}…</code> <span className="muted">· {t.role}</span>
                  </span>
                  <span className="muted text-xs">last used {when(t.lastUsedAt)}</span>
                  {t.revokedAt ? (
                    <span className="muted text-xs">revoked {when(t.revokedAt)}</span>
                  ) : (
                    <form action={revokeToken}>
                      <input type="hidden" name="tokenId" value={t.id} />
                      <button type="submit" className="button-secondary px-2 py-1" aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    </form>
                  )}
                </li>
              ))}
            </ul>
          ) : null}
          <TokenForm />
        </section>
      ) : null}

      <section aria-labelledby="github" className="card p-4">
        <h2 id="github" className="mb-2 text-lg font-semibold">
          GitHub
        </h2>
        {installations.length === 0 ? (
          <p className="muted text-sm">
            No GitHub App installation is linked to this organization. Create the app from the manifest in the README, install it on your account or
            organization, and its repositories appear under Repositories.
          </p>
        ) : (
          <ul className="text-sm" aria-label="GitHub App installations">
            {installations.map((i) => (
              <li key={i.id}>
                {i.accountLogin} <span className="muted">({i.accountType.toLowerCase()})</span> · {i._count.repositories} repositories
                {i.suspendedAt ? <span className="text-amber-700 dark:text-amber-400"> · suspended</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      {isAdmin ? (
        <section aria-labelledby="audit" className="card p-4">
          <h2 id="audit" className="mb-2 text-lg font-semibold">
            Audit log
          </h2>
          {events.length === 0 ? (
            <p className="muted text-sm">Nothing recorded yet.</p>
          ) : (
            <ol className="space-y-1 text-xs" aria-label="Audit log">
              {events.map((e) => (
                <li key={e.id} className="break-words">
                  <span className="muted">{when(e.createdAt)}</span> <code>{e.action}</code> {e.targetType}
                  {typeof e.data.email === "string" ? ` ${e.data.email}` : ""}
                  {typeof e.data.name === "string" ? ` ${e.data.name}` : ""}
                </li>
              ))}
            </ol>
          )}
        </section>
      ) : null}

      <section aria-labelledby="server" className="card p-4">
        <h2 id="server" className="mb-2 text-lg font-semibold">
          Server
        </h2>
        <dl className="grid gap-1 text-sm sm:grid-cols-[10rem_1fr]">
          <dt className="muted">Database</dt>
          <dd className="font-mono text-xs break-all">
            {database.provider} · {database.url}
          </dd>
          <dt className="muted">Version</dt>
          <dd className="font-mono text-xs">{packageJson.version}</dd>
        </dl>
      </section>
      <Notice text={notice} />
    </section>
  );
}
