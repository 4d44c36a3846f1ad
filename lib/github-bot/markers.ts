// Hidden markers in what Poolguard posts, so a later run finds its own comments again
// instead of posting duplicates.

export const summaryMarker = "<!-- poolguard:pr-summary -->";

export function findingMarker(fingerprint: string): string {
  return `<!-- poolguard:finding=${fingerprint} -->`;
}

export function parseFindingMarker(body: string | null | undefined): string | null {
  const m = /<!-- poolguard:finding=([A-Za-z0-9_.:-]+) -->/.exec(body ?? "");
  return m ? (m[1] as string) : null;
}

export const resolvedNote = "**Fixed**: Poolguard no longer finds this in the latest commit.";
