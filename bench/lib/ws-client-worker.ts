/**
 * A worker thread holding some of the bench's WebSocket clients (ws-clients.ts starts it). Each client
 * notes, per bench event, when the first `contact:updated` naming that event's contact arrived, and counts
 * whatever else it received: duplicates, other types, malformed messages, sequence numbers going backwards.
 * Its own thread, so 50 clients parsing 50,000 messages a second do not delay the sender's clock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { epochNow } from './paced-load.ts';

export interface WorkerSetup {
  url: string;
  clients: number;
  /** Event i is the change of contact `idBase + i`. */
  events: number;
  idBase: number;
  /** The property every event changes, which each message must name. */
  property: string;
  connectTimeoutMs: number;
}

export interface ClientReport {
  /** Per event, `epochNow()` at its message's arrival (NaN: never came). */
  arrivals: Float64Array;
  matched: number;
  duplicates: number;
  /** `contact:updated` for a contact that is not one of the bench's. */
  unexpected: number;
  otherTypes: Record<string, number>;
  malformed: number;
  firstMalformed?: string;
  seqBackwards: number;
  hello: boolean;
  /** The first message's type (the protocol says `hello`). */
  firstType?: string;
  extensions: string;
  closeCode?: number;
  closeReason?: string;
  error?: string;
}

export type ToWorker = { type: 'progress' } | { type: 'collect' };
export type FromWorker =
  | { type: 'ready'; connected: number; failures: string[] }
  | { type: 'progress'; matched: number; closed: number }
  | { type: 'result'; clients: ClientReport[]; busy: number };

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('ws-client-worker.ts runs as a worker thread');

interface Client {
  socket: WebSocket;
  report: ClientReport;
  lastSeq: number;
  closed: boolean;
  /** The bench closed it: its close code is not the server's word. */
  closingByUs: boolean;
}

function open(): Promise<Client> {
  const socket = new WebSocket(setup.url);
  const client: Client = {
    socket,
    lastSeq: Number.NEGATIVE_INFINITY,
    closed: false,
    closingByUs: false,
    report: {
      arrivals: new Float64Array(setup.events).fill(Number.NaN),
      matched: 0,
      duplicates: 0,
      unexpected: 0,
      otherTypes: {},
      malformed: 0,
      seqBackwards: 0,
      hello: false,
      extensions: '',
    },
  };
  const { report } = client;
  const malformed = (why: string, raw: string) => {
    report.malformed++;
    report.firstMalformed ??= `${why}: ${raw.slice(0, 300)}`;
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (socket.readyState === WebSocket.OPEN)
        resolve(client); // open, but no hello: counted as such
      else {
        socket.terminate();
        reject(new Error(`not open within ${setup.connectTimeoutMs} ms`));
      }
    }, setup.connectTimeoutMs);
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`HTTP ${response.statusCode} instead of an upgrade`));
      socket.terminate();
    });
    socket.on('error', (error) => {
      report.error ??= error.message;
      clearTimeout(timer);
      reject(error);
    });
    socket.on('open', () => {
      report.extensions = socket.extensions;
    });
    socket.on('close', (code, reason) => {
      client.closed = true;
      if (client.closingByUs) return;
      report.closeCode = code;
      report.closeReason = reason.toString();
    });
    socket.on('message', (data, isBinary) => {
      const at = epochNow();
      const raw = (data as Buffer).toString('utf8');
      if (isBinary) return malformed('binary frame', raw);
      let message: { type?: unknown; seq?: unknown; at?: unknown; data?: unknown };
      try {
        message = JSON.parse(raw);
      } catch {
        return malformed('not JSON', raw);
      }
      const { type, seq, data: body } = message;
      if (typeof type !== 'string' || typeof seq !== 'number' || typeof message.at !== 'string')
        malformed('not {type: string, seq: number, at: string, data}', raw);
      report.firstType ??= String(type);
      if (type === 'hello') {
        report.hello = true;
        clearTimeout(timer);
        resolve(client);
        return;
      }
      if (typeof seq === 'number') {
        if (seq <= client.lastSeq) report.seqBackwards++;
        client.lastSeq = seq;
      }
      if (type !== 'contact:updated') {
        report.otherTypes[String(type)] = (report.otherTypes[String(type)] ?? 0) + 1;
        return;
      }
      const { hubspotId, properties } = (body ?? {}) as { hubspotId?: unknown; properties?: unknown };
      const index = Number(hubspotId) - setup.idBase;
      if (typeof hubspotId !== 'string' || !Number.isInteger(index) || index < 0 || index >= setup.events) {
        report.unexpected++;
        return;
      }
      if (!Array.isArray(properties) || !properties.includes(setup.property))
        malformed(`data.properties does not name ${setup.property}`, raw);
      if (Number.isNaN(report.arrivals[index])) {
        report.arrivals[index] = at;
        report.matched++;
      } else report.duplicates++;
    });
  });
}

const settled = await Promise.allSettled(Array.from({ length: setup.clients }, open));
const clients = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
const failures = settled.flatMap((outcome) =>
  outcome.status === 'rejected' ? [(outcome.reason as Error).message] : [],
);
const since = performance.eventLoopUtilization();
port.postMessage({ type: 'ready', connected: clients.length, failures } satisfies FromWorker);

port.on('message', async (message: ToWorker) => {
  if (message.type === 'progress') {
    port.postMessage({
      type: 'progress',
      matched: clients.reduce((sum, client) => sum + client.report.matched, 0),
      closed: clients.filter((client) => client.closed).length,
    } satisfies FromWorker);
    return;
  }
  const busy = performance.eventLoopUtilization(since).utilization;
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.closed) return resolve();
          const timer = setTimeout(() => {
            client.socket.terminate();
            resolve();
          }, 2_000);
          client.socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.closingByUs = true;
          client.socket.close(1000, 'bench done');
        }),
    ),
  );
  const reports = clients.map((client) => client.report);
  port.postMessage(
    { type: 'result', clients: reports, busy } satisfies FromWorker,
    reports.map((report) => report.arrivals.buffer as ArrayBuffer),
  );
});
