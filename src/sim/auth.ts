import { createHash } from 'node:crypto';
import type { ChangeSource } from './changes.ts';
import type { Clock } from './clock.ts';
import { expiredToken, invalidToken, missingCredentials, missingScopes } from './errors.ts';
import type { OAuthStore } from './oauth.ts';
import type { Caller } from './rate-limit.ts';

export type Access = 'read' | 'write' | 'schema';

export interface AuthenticatedCaller extends Caller {
  /** null: a private app, which may do anything this simulator serves. */
  scopes: ReadonlySet<string> | null;
  /** The app making the call: webhooks name it as the `sourceId` of the changes it makes. */
  appId: number;
}

/** Each private app is an app of its own, with its own id; the simulator derives a stable one from its token. */
function privateAppId(token: string): number {
  return 1_000_000 + (createHash('sha256').update(token).digest().readUInt32BE(0) % 9_000_000);
}

/** How HubSpot's webhooks report a change made through the API: by an integration, named by its app id. */
export function integrationSource(caller: AuthenticatedCaller): ChangeSource {
  return { changeSource: 'INTEGRATION', sourceId: String(caller.appId) };
}

const REQUIRED_SCOPES: Record<Access, string[]> = {
  read: ['crm.objects.contacts.read', 'crm.objects.contacts.write'],
  write: ['crm.objects.contacts.write'],
  schema: ['crm.schemas.contacts.read', 'crm.objects.contacts.read'],
};

/**
 * Bearer tokens as HubSpot takes them: any private-app token (`pat-…`) not revoked, or an OAuth access token
 * this portal issued that has neither expired nor died with an uninstall. Each private app has its own
 * rate-limit bucket; an OAuth app shares one per portal.
 */
export function createAuthenticator(deps: { oauth: OAuthStore; clock: Clock; appId: number }) {
  return (authorization: string | undefined, access: Access): AuthenticatedCaller => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) throw missingCredentials();
    let caller: AuthenticatedCaller;
    if (token.startsWith('pat-')) {
      if (deps.oauth.isPrivateAppRevoked(token)) throw invalidToken();
      caller = { key: `private-app:${token}`, oauth: false, scopes: null, appId: privateAppId(token) };
    } else {
      const issued = deps.oauth.accessToken(token);
      if (!issued) throw invalidToken();
      const state = deps.oauth.state(issued);
      if (state === 'revoked') throw invalidToken();
      if (state === 'expired') throw expiredToken(issued.expiresAt, deps.clock.now());
      caller = { key: 'oauth-app', oauth: true, scopes: new Set(issued.scopes), appId: deps.appId };
    }
    const required = REQUIRED_SCOPES[access];
    if (caller.scopes && !required.some((scope) => caller.scopes?.has(scope))) throw missingScopes(required);
    return caller;
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
