/** HubSpot's truth beside the mirror, for people watching the demo: how many contacts differ right now. */

interface TruthContact {
  id: string;
  properties: Record<string, string | null>;
  archived: boolean;
}

interface MirrorContact {
  hubspotId: string;
  properties: Record<string, string | null>;
}

interface MirrorPage {
  data: MirrorContact[];
  nextCursor: string | null;
}

// HubSpot's own timestamps move with every read; these are the values a person would look at.
const COMPARED = ['email', 'firstname', 'lastname', 'company', 'lifecyclestage'] as const;

export interface MirrorCheck {
  hubspot: number;
  mirror: number;
  differing: number;
  /** A few ids that differ, to look at with curl or in the dashboard. */
  examples: string[];
}

async function mirrorContacts(serviceUrl: string, token: string): Promise<Map<string, MirrorContact>> {
  const held = new Map<string, MirrorContact>();
  let cursor: string | null = null;
  do {
    const url = new URL('/api/contacts', serviceUrl);
    url.searchParams.set('limit', '500');
    if (cursor) url.searchParams.set('cursor', cursor);
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET /api/contacts answered ${response.status}`);
    const page = (await response.json()) as MirrorPage;
    for (const contact of page.data) held.set(contact.hubspotId, contact);
    cursor = page.nextCursor;
  } while (cursor);
  return held;
}

const normal = (value: string | null | undefined) => (value === '' || value === undefined ? null : value);

/** Live contacts in HubSpot against live contacts in the mirror, property by property. */
export async function checkMirror(
  simulatorUrl: string,
  serviceUrl: string,
  token: string,
): Promise<MirrorCheck> {
  const [truth, mirror] = await Promise.all([
    fetch(`${simulatorUrl}/__sim/contacts`).then((r) => r.json() as Promise<TruthContact[]>),
    mirrorContacts(serviceUrl, token),
  ]);
  const live = truth.filter((contact) => !contact.archived);
  const differing = live.filter((contact) => {
    const held = mirror.get(contact.id);
    return (
      !held || COMPARED.some((name) => normal(held.properties[name]) !== normal(contact.properties[name]))
    );
  });
  const liveIds = new Set(live.map((contact) => contact.id));
  const extra = [...mirror.keys()].filter((id) => !liveIds.has(id));
  return {
    hubspot: live.length,
    mirror: mirror.size,
    differing: differing.length + extra.length,
    examples: [...differing.map((contact) => contact.id), ...extra].slice(0, 3),
  };
}
