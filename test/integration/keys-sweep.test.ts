import { afterEach, describe, expect, test } from 'vitest';
import { STACK_ADMIN_TOKEN, type Stack, startStack } from '../helpers/stack.ts';

const asStackAdmin = { authorization: `Bearer ${STACK_ADMIN_TOKEN}` };

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('the audit trail of a sweep started with a named key', () => {
  test('names the key, on the audit entry and on the session', async () => {
    stack = await startStack({ contacts: 25 });
    const { app } = stack;
    const created = await app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: asStackAdmin,
      payload: { name: 'nightly-reconcile', role: 'admin' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const asKey = { authorization: `Bearer ${created.json().key}` };

    const started = await app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asKey,
      payload: { mode: 'full' },
    });
    expect(started.statusCode, started.body).toBe(202);
    const { id } = started.json();

    let session: { status: string; triggeredBy: string | null; recordsCount: number } | undefined;
    for (let i = 0; i < 600 && !['completed', 'failed'].includes(session?.status ?? ''); i++) {
      if (session) await new Promise((resolve) => setTimeout(resolve, 50));
      session = (await app.inject({ method: 'GET', url: `/api/sync/sessions/${id}`, headers: asKey })).json();
    }
    expect(session).toMatchObject({ status: 'completed', triggeredBy: 'key:nightly-reconcile' });

    const audit = await app.inject({
      method: 'GET',
      url: `/api/audit?entity_type=sync_session&entity_id=${id}`,
      headers: asKey,
    });
    expect(audit.json().data).toEqual([
      expect.objectContaining({
        operation: 'create',
        userId: 'key:nightly-reconcile',
        newData: { mode: 'full', allowMassArchive: false },
      }),
    ]);
  });
});
