import { spawnSync } from 'node:child_process';
import postgres from 'postgres';
import { describe, expect, inject, test } from 'vitest';
import { createScratchDatabase } from '../helpers/database.ts';
import { dropLeftoverDatabases } from '../helpers/global-setup.ts';

const target = inject('testDatabase');

/** The id of a process that ran and is gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe.runIf(target.kind === 'postgres')('test databases an interrupted run leaves behind', () => {
  test("a worker's database is named after the run's main process, which the teardown looks for", async () => {
    if (target.kind !== 'postgres') return;
    const scratch = await createScratchDatabase({ empty: true });
    try {
      const mainPid = target.template.replace('hs_template_', '');
      expect(mainPid).not.toBe(String(process.pid));
      expect(new URL(scratch.url ?? '').pathname).toMatch(new RegExp(`^/hs_test_${mainPid}_[0-9a-f]+$`));
    } finally {
      await scratch.drop();
    }
  });

  test("are dropped when their run's process is gone, and only then, and never while in use", async () => {
    if (target.kind !== 'postgres') return;
    const admin = postgres(target.adminUrl, { max: 2, onnotice: () => {} });
    const dead = deadPid();
    const names = {
      deadTest: `hs_test_${dead}_0a0a0a0a0a`,
      deadTemplate: `hs_template_${dead}`,
      live: `hs_test_${process.pid}_0b0b0b0b0b`,
      inUse: `hs_test_${dead}_0c0c0c0c0c`,
    };
    for (const name of Object.values(names)) await admin.unsafe(`create database ${name}`);
    const holder = postgres(new URL(`/${names.inUse}`, target.adminUrl).toString(), { max: 1 });
    try {
      await holder`select 1`;
      const dropped = await dropLeftoverDatabases(admin);
      expect(dropped).toEqual(expect.arrayContaining([names.deadTest, names.deadTemplate]));
      expect(dropped).not.toContain(names.live);
      expect(dropped).not.toContain(names.inUse);
      const left = (
        await admin<
          { datname: string }[]
        >`select datname from pg_database where datname in ${admin(Object.values(names))}`
      ).map((row) => row.datname);
      expect(left.sort()).toEqual([names.inUse, names.live].sort());
    } finally {
      await holder.end();
      for (const name of Object.values(names))
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
