import { afterEach, describe, expect, inject, test } from 'vitest';
import { createDatabase } from '../../src/db/client.ts';
import { buildTestApp, READ_TOKEN } from '../helpers/app.ts';
import { STACK_ADMIN_TOKEN, type Stack, simulatorTruth, startStack } from '../helpers/stack.ts';
import { connect, wsUrl } from '../helpers/ws.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

// Instances share only the database: NOTIFY, and so fan-out across them, needs a real PostgreSQL.
describe.runIf(inject('testDatabase').kind === 'postgres')('two instances on one PostgreSQL', () => {
  test('a client on B hears a sweep run on A and the webhooks posted to A', async () => {
    stack = await startStack({ contacts: 600 });
    if (!stack.databaseUrl) throw new Error('the stack has no PostgreSQL URL');
    // Instance B: the same database, no workers of its own, only its relay and WebSocket clients.
    const databaseB = await createDatabase({ url: stack.databaseUrl, maxConnections: 2 });
    const appB = await buildTestApp(databaseB);
    const addressB = await appB.listen({ port: 0, host: '127.0.0.1' });
    const client = await connect(wsUrl(addressB, `?token=${READ_TOKEN}`));
    try {
      await client.next((m) => m.type === 'hello');

      const started = await fetch(`${stack.address}/api/contacts/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${STACK_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'full' }),
      });
      expect(started.status).toBe(202);
      const { sessionId } = (await started.json()) as { sessionId: string };
      const complete = await client.next((m) => m.type === 'sync:complete' && m.data.sessionId === sessionId);
      const ofSession = client.events().filter((m) => m.data.sessionId === sessionId);
      expect(ofSession[0]?.type).toBe('sync:start');
      expect(ofSession.some((m) => m.type === 'sync:progress')).toBe(true);
      // HubSpot's count of live contacts when the sweep began, and where it ended.
      const live = (await simulatorTruth(stack.simulator)).filter((c) => !c.archived && !c.mergedInto);
      expect(ofSession[0]?.data.total).toBe(live.length);
      expect(complete.data).toMatchObject({ status: 'completed', percent: 100, etaSeconds: 0 });
      expect((complete.data.counts as { seen: number }).seen).toBeGreaterThanOrEqual(live.length);

      const [contact] = (await stack.hubspot.crm.contacts.basicApi.getPage(1)).results;
      if (!contact) throw new Error('the simulator has no contacts');
      await stack.hubspot.crm.contacts.basicApi.update(contact.id, { properties: { firstname: 'Ada' } });
      const updated = await client.next(
        (m) => m.type === 'contact:updated' && m.data.hubspotId === contact.id && m.data.source === 'webhook',
      );
      expect(updated.data.properties).toContain('firstname');
      // The seq orders events across instances: B's client saw them rising.
      const seqs = client.events().map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      await client.close();
      await appB.close();
      await databaseB.close();
    }
  });
});
