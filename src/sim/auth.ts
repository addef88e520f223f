import type { Clock } from './clock.ts';
import { expiredToken, invalidToken, missingCredentials, missingScopes } from './errors.ts';
import type { OAuthStore } from './oauth.ts';
import type { Caller } from './rate-limit.ts';

export type Access = 'read' | 'write' | 'schema';

export interface AuthenticatedCaller extends Caller {
  /** null: a private app, which may do anything this simulator serves. */
  scopes: ReadonlySet<string> | null;
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
export function createAuthenticator(deps: { oauth: OAuthStore; clock: Clock }) {
  return (authorization: string | undefined, access: Access): AuthenticatedCaller => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) throw missingCredentials();
    let caller: AuthenticatedCaller;
    if (token.startsWith('pat-')) {
      if (deps.oauth.isPrivateAppRevoked(token)) throw invalidToken();
      caller = { key: `private-app:${token}`, oauth: false, scopes: null };
    } else {
      const issued = deps.oauth.accessToken(token);
      if (!issued) throw invalidToken();
      const state = deps.oauth.state(issued);
      if (state === 'revoked') throw invalidToken();
      if (state === 'expired') throw expiredToken(issued.expiresAt, deps.clock.now());
      caller = { key: 'oauth-app', oauth: true, scopes: new Set(issued.scopes) };
    }
    const required = REQUIRED_SCOPES[access];
    if (caller.scopes && !required.some((scope) => caller.scopes?.has(scope))) throw missingScopes(required);
    return caller;
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
