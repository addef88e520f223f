/** The simulator's control API (CONTRACT.md, "The HubSpot simulator") over HTTP, as an outside harness drives it. */

export interface FaultSettings {
  latencyMs?: number;
  errorRate?: number;
  rateLimit?: string;
  dropRate?: number;
  duplicateRate?: number;
  reorderWindowMs?: number;
  [other: string]: unknown;
}

export interface DrainReport {
  delivered: number;
  failed: number;
  pending: number;
}

async function call<T>(
  simulatorUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${simulatorUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export function simulatorControl(simulatorUrl: string) {
  return {
    faults: () => call<Record<string, unknown>>(simulatorUrl, 'GET', '/__sim/faults'),
    setFaults: (faults: FaultSettings) =>
      call<Record<string, unknown>>(simulatorUrl, 'POST', '/__sim/faults', faults),
    /** Resolves once every change is made. */
    activity: (changes: number, perSecond: number) =>
      call<{ made: number }>(simulatorUrl, 'POST', '/__sim/activity', { changes, perSecond }),
    drain: (timeoutMs: number) =>
      call<DrainReport>(simulatorUrl, 'POST', '/__sim/webhooks/drain', { timeoutMs }),
    revokePrivateApp: (token: string) =>
      call<unknown>(simulatorUrl, 'POST', '/__sim/private-apps/revoke', { token }),
  };
}

export type SimulatorControl = ReturnType<typeof simulatorControl>;
