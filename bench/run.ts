/**
 * Runs every bench/*.ts except this one as its own process, merges their results into
 * bench/results/latest.json and prints one table. `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(benchDir, 'results');
const self = path.basename(fileURLToPath(import.meta.url));

const benches = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && file !== self)
  .sort();

const results: Record<string, unknown> = {};
const failures: string[] = [];
for (const file of benches) {
  const name = file.replace(/\.ts$/, '');
  console.log(`\n▶ ${file}`);
  const run = spawnSync(process.execPath, ['--expose-gc', path.join(benchDir, file)], { stdio: 'inherit' });
  const output = path.join(resultsDir, `${name}.json`);
  if (run.status !== 0 || !existsSync(output)) {
    failures.push(file);
    continue;
  }
  results[name] = JSON.parse(readFileSync(output, 'utf8'));
}

writeFileSync(
  path.join(resultsDir, 'latest.json'),
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);

/** Every numeric leaf, as `bench › path.to.figure`. */
function figures(prefix: string, value: unknown, rows: Record<string, number>): Record<string, number> {
  if (typeof value === 'number') rows[prefix] = value;
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) figures(prefix ? `${prefix}.${key}` : key, child, rows);
  }
  return rows;
}

console.log('\nbench/results/latest.json');
const rows: Record<string, { value: number }> = {};
for (const [name, result] of Object.entries(results)) {
  for (const [key, value] of Object.entries(figures('', result, {}))) rows[`${name} › ${key}`] = { value };
}
console.table(rows);
if (failures.length > 0) {
  console.error(`failed: ${failures.join(', ')}`);
  process.exit(1);
}
