import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { PRIVATE_APP_TOKEN } from './helpers.ts';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'sim', 'cli.ts');

describe('the command line', () => {
  test('prints the listening line, serves the flags it was given, and exits cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        cli,
        ...['--port', '0', '--contacts', '7', '--seed', 'cli'],
        ...['--rate-limit', '3/10s', '--oauth-rate-limit', '2/10s'],
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve(output.split('\n')[0] as string);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    expect(line).toMatch(/^hubspot-sim listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.replace('hubspot-sim listening on ', '');
    const response = await fetch(`${url}/crm/v3/objects/contacts?limit=100`, {
      headers: { authorization: `Bearer ${PRIVATE_APP_TOKEN}` },
    });
    expect(response.headers.get('x-hubspot-ratelimit-max')).toBe('3');
    expect(((await response.json()) as { results: unknown[] }).results.length).toBeLessThanOrEqual(7);
    const faults = (await (await fetch(`${url}/__sim/faults`)).json()) as Record<string, unknown>;
    expect(faults).toMatchObject({ rateLimit: '3/10000ms', oauthRateLimit: '2/10000ms' });
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  test('a bad flag value stops start-up with one clear line', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0', '--rate-limit', 'fast'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2); // a usage error
    expect(stderr).toMatch(/^hubspot-sim: .*rate/i);
  });
});

describe('the retry schedule flags', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        // Started: the flags were taken. Stop it.
        if (stdout.includes('listening on')) child.kill('SIGTERM');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  test('--retry-time-scale and --signed-url are taken, and the help describes both retry flags', async () => {
    const started = await run([
      ...['--port', '0', '--contacts', '1'],
      ...['--retry-time-scale', '0.001', '--signed-url', 'https://hooks.example.com/webhooks/hubspot'],
    ]);
    expect(started.stdout).toMatch(/^hubspot-sim listening on /);
    expect(started.code).toBe(0);

    const help = await run(['--help']);
    expect(help.stdout).toContain('--retry-time-scale X');
    expect(help.stdout).toMatch(/about 24 hours/);
    expect(help.stdout).toContain('--retry-base-ms MS');
    expect(help.stdout).toContain('--signed-url URL');
  });

  test.each([
    [['--retry-time-scale', '0'], /^hubspot-sim: --retry-time-scale: expected a number above 0/],
    [['--retry-time-scale', 'fast'], /^hubspot-sim: --retry-time-scale: /],
    [['--retry-base-ms', '50', '--retry-time-scale', '0.01'], /both set the retry schedule/],
    [['--signed-url', 'not a url'], /^hubspot-sim: --signed-url: /],
  ])('%j is refused in one line with exit 2', async (args, message) => {
    const result = await run(['--port', '0', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});
