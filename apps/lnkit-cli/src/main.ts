/**
 * lnkit-cli: the command line client of lnkitd's REST API. It finds the API address
 * (DATADIR/lnkitd.json) and token (DATADIR/api-token) in the data dir.
 * Human output by default, --json for scripts. Exit codes: 0 ok, 1 the node refused or
 * failed, 2 bad usage, 3 lnkitd not reachable.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { channelListText, closeChannelText, eventLine, openChannelText, SseParser } from './channel-text.ts';
import {
  FORWARD_USAGE,
  forwardRequest,
  forwardText,
  resolveHtlcRequest,
  setFeesRequest,
  setFeesText,
} from './forward-text.ts';
import {
  getNodeText,
  graphInfoText,
  listChannelsText,
  listNodesText,
  queryRoutesText,
} from './graph-text.ts';
import { PAYMENT_USAGE, paymentRequest, paymentText } from './payment-text.ts';
import { forTerminal, jsonForTerminal } from './terminal.ts';

const USAGE = `usage: lnkit-cli [--datadir DIR] [--json] <command> [args]

commands:
  getinfo                          node id, network, chain height, peers, version
  connect NODEID@HOST:PORT         connect to a peer (and reconnect to it after restarts)
  disconnect NODEID                disconnect from a peer and forget it
  listpeers                        connected peers
  metrics [--prometheus]           per-actor metrics
  profile ACTOR --seconds N        CPU-profile one actor; prints where the .cpuprofile went
  mine N                           mine N blocks to the wallet (embedded regtest chain only)
  newaddress                       a new on-chain receive address of the wallet
  balance                          on-chain (confirmed, unconfirmed) and lightning balances
  decodeinvoice BOLT11             decode and check a BOLT 11 invoice (payee, amount, hash, expiry...)
  graphinfo                        the network graph: nodes, channels, directions, memory, last sync
  listnodes [--limit N] [--after I]          the graph's nodes, a page at a time
  listgraphchannels [--limit N] [--after I]  the graph's channels with both directions' fees
  getnode NODEID                   a node of the graph and its channels
  queryroutes NODEID MSAT [--max-fee-msat N]  routes from this node paying NODEID MSAT
  openchannel NODEID SATS [--push-msat N] [--type anchors|static-remotekey] [--public]
                                   open a channel of SATS to a connected peer, funded by the wallet
  listchannels                     this node's channels: state, balances, funding and closing
  closechannel CHANNEL_ID [--force]  close a channel cooperatively (--force: our commitment on chain)
  events [--since SEQ]             follow the node's events, one line each (the pending ones first)
${PAYMENT_USAGE}${FORWARD_USAGE}
options:
  --datadir DIR    lnkitd's data directory (default ~/.lnkit, or LNKIT_DATADIR)
  --json           print the API's JSON answer
`;

class UsageError extends Error {}

/** Options that take a value, sent to the API as typed (it checks them), and the commands they go with. */
const VALUE_OPTIONS = {
  '--max-fee-msat': ['queryroutes'],
  '--limit': ['listnodes', 'listgraphchannels'],
  '--after': ['listnodes', 'listgraphchannels'],
  '--push-msat': ['openchannel'],
  '--type': ['openchannel'],
  '--since': ['events', 'forwardinghistory'],
  '--description': ['invoice'],
  '--expiry': ['invoice'],
  '--amount-msat': ['pay'],
  '--payment-id': ['pay'],
  '--base-msat': ['setfees'],
  '--ppm': ['setfees'],
  '--cltv-delta': ['setfees'],
  '--htlc-min-msat': ['setfees'],
  '--htlc-max-msat': ['setfees'],
} as const;
/** What an option's value is, for the message when it is missing. */
const VALUE_WANTED: Partial<Record<keyof typeof VALUE_OPTIONS, string>> = {
  '--type': 'anchors or static-remotekey',
  '--since': 'an event seq (events) or a time (forwardinghistory)',
  '--description': 'a text',
  '--expiry': 'a number of seconds',
};
/** Options that are flags, and the command each goes with. */
const FLAG_OPTIONS = { '--public': 'openchannel', '--force': 'closechannel' } as const;
type FlagOption = keyof typeof FLAG_OPTIONS;
type ValueOption = keyof typeof VALUE_OPTIONS;

function valueOption(arg: string): ValueOption | undefined {
  const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
  return Object.hasOwn(VALUE_OPTIONS, name) ? (name as ValueOption) : undefined;
}

interface Args {
  dataDir: string;
  json: boolean;
  prometheus: boolean;
  seconds?: string;
  values: Partial<Record<ValueOption, string>>;
  flags: Set<FlagOption>;
  command: string;
  rest: string[];
}

function parse(argv: string[]): Args {
  let dataDir = process.env.LNKIT_DATADIR ?? join(homedir(), '.lnkit');
  let json = false;
  let prometheus = false;
  let seconds: string | undefined;
  const values: Args['values'] = {};
  const flags = new Set<FlagOption>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--datadir') {
      const v = argv[++i];
      if (!v) throw new UsageError('--datadir needs a directory');
      dataDir = v;
    } else if (a.startsWith('--datadir=')) dataDir = a.slice(10);
    else if (a === '--json') json = true;
    else if (a === '--prometheus') prometheus = true;
    else if (a === '--seconds') {
      seconds = argv[++i];
      if (!seconds) throw new UsageError('--seconds needs a number');
    } else if (a.startsWith('--seconds=')) seconds = a.slice(10);
    else if (valueOption(a)) {
      const name = valueOption(a)!;
      const v = a.includes('=') ? a.slice(name.length + 1) : argv[++i];
      if (!v) throw new UsageError(`${name} needs ${VALUE_WANTED[name] ?? 'a number'}`);
      values[name] = v;
    } else if (Object.hasOwn(FLAG_OPTIONS, a)) flags.add(a as FlagOption);
    else if (a === '--help' || a === '-h') positional.unshift('help');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  const [command, ...rest] = positional;
  if (!command) throw new UsageError('no command given');
  for (const name of Object.keys(values) as ValueOption[])
    if (!(VALUE_OPTIONS[name] as readonly string[]).includes(command))
      throw new UsageError(`${name} goes with ${VALUE_OPTIONS[name].join(' or ')}, not ${command}`);
  for (const name of flags)
    if (FLAG_OPTIONS[name] !== command)
      throw new UsageError(`${name} goes with ${FLAG_OPTIONS[name]}, not ${command}`);
  return {
    dataDir: resolve(dataDir),
    json,
    prometheus,
    ...(seconds ? { seconds } : {}),
    values,
    flags,
    command,
    rest,
  };
}

function need(rest: string[], count: number, what: string): void {
  if (rest.length !== count) throw new UsageError(`expected ${what}`);
}

class Client {
  readonly base: string;
  private readonly token: string;

  constructor(dataDir: string) {
    let info: { api: string };
    try {
      info = JSON.parse(readFileSync(join(dataDir, 'lnkitd.json'), 'utf8')) as { api: string };
    } catch {
      throw new ConnectError(
        `lnkitd does not seem to be running with data dir ${dataDir} (no lnkitd.json there)`,
      );
    }
    try {
      this.token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    } catch (e) {
      throw new ConnectError(`cannot read the API token in ${dataDir}: ${(e as Error).message}`);
    }
    this.base = info.api;
  }

  /** A GET whose body is read as it comes (the event stream). */
  async stream(path: string): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      });
    } catch (e) {
      throw new ConnectError(
        `cannot reach lnkitd at ${this.base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`,
      );
    }
  }

  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ConnectError(
        `cannot reach lnkitd at ${this.base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`,
      );
    }
    return { status: res.status, text: await res.text() };
  }
}

class ConnectError extends Error {}

type Json = Record<string, unknown>;

function human(command: string, out: Json): string {
  const payment = paymentText(command, out);
  if (payment !== undefined) return payment;
  if (command === 'forwardinghistory') return forwardText(out);
  if (command === 'setfees') return setFeesText(out);
  switch (command) {
    case 'getinfo': {
      const listening = out.listening as { host: string; port: number } | null;
      return [
        `node id:   ${out.nodeId}`,
        `alias:     ${out.alias || '(none)'}`,
        `network:   ${out.network}`,
        `block:     ${out.blockHeight} ${out.blockHash}${out.synced ? '' : ' (syncing)'}`,
        `peers:     ${out.numPeers}`,
        `listening: ${listening ? `${listening.host}:${listening.port}` : 'no'}`,
        `version:   ${out.version}`,
        ...(out.chainError ? [`chain:     ${out.chainError}`] : []),
        ...((out.faults as { kind: string; message: string; since: string }[] | undefined) ?? []).map(
          (f) => `fault:     ${f.kind} since ${f.since}: ${f.message}`,
        ),
      ].join('\n');
    }
    case 'listpeers': {
      const peers = out.peers as {
        nodeId: string;
        address: string;
        inbound: boolean;
        features: { names: string[] };
      }[];
      if (peers.length === 0) return 'no peers';
      return peers
        .map(
          (p) =>
            `${p.nodeId}  ${p.address}  ${p.inbound ? 'inbound' : 'outbound'}\n  features: ${p.features.names.join(', ')}`,
        )
        .join('\n');
    }
    case 'connect': {
      const p = out.peer as { nodeId: string; address: string };
      return `connected to ${p.nodeId} at ${p.address}`;
    }
    case 'disconnect':
      return out.wasConnected
        ? `disconnected from ${out.nodeId}`
        : `${out.nodeId} was not connected (forgotten anyway)`;
    case 'metrics': {
      const actors = out.actors as {
        actor: string;
        placement: string;
        eventLoopUtilization: number;
        messagesIn: number;
        messagesOut: number;
        queueDepth: number;
        restarts: number;
        latency: { p50Ms: number; p99Ms: number };
      }[];
      const rows = actors.map(
        (a) =>
          `${a.actor.padEnd(16)} ${a.placement.padEnd(10)} ${(a.eventLoopUtilization * 100).toFixed(1).padStart(6)}% ${String(a.messagesIn).padStart(9)} ${String(a.messagesOut).padStart(9)} ${String(a.queueDepth).padStart(6)} ${String(a.latency.p50Ms).padStart(8)} ${String(a.latency.p99Ms).padStart(8)} ${String(a.restarts).padStart(8)}`,
      );
      return [
        `${'actor'.padEnd(16)} ${'placement'.padEnd(10)} ${'ELU'.padStart(7)} ${'msgs in'.padStart(9)} ${'msgs out'.padStart(9)} ${'queue'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'restarts'.padStart(8)}`,
        ...rows,
        ...peerLimitLines(out.peers as PeerStatsOut | null | undefined),
      ].join('\n');
    }
    case 'profile':
      return `wrote ${out.path} (${out.samples} samples); open it in Chrome DevTools or speedscope`;
    case 'decodeinvoice':
      return invoiceText(out);
    case 'mine':
      return `mined ${out.blocks} block(s); tip ${(out.hashes as string[]).at(-1) ?? ''}`;
    case 'graphinfo':
      return graphInfoText(out);
    case 'listnodes':
      return listNodesText(out);
    case 'listgraphchannels':
      return listChannelsText(out);
    case 'getnode':
      return getNodeText(out);
    case 'queryroutes':
      return queryRoutesText(out);
    case 'openchannel':
      return openChannelText(out);
    case 'listchannels':
      return channelListText(out);
    case 'closechannel':
      return closeChannelText(out);
    case 'newaddress':
      return String(out.address);
    case 'balance': {
      const onchain = out.onchain as {
        confirmedSat: string;
        unconfirmedSat: string;
        pendingSweepSat?: string;
      };
      const lightning = out.lightning as { localMsat: string };
      return [
        `on-chain confirmed:   ${onchain.confirmedSat} sat (${btc(onchain.confirmedSat)} BTC)`,
        `on-chain unconfirmed: ${onchain.unconfirmedSat} sat`,
        ...(onchain.pendingSweepSat && onchain.pendingSweepSat !== '0'
          ? [
              `on-chain to sweep:    ${onchain.pendingSweepSat} sat (closed channels' outputs, see listchannels)`,
            ]
          : []),
        `lightning local:      ${lightning.localMsat} msat`,
      ].join('\n');
    }
    default:
      return JSON.stringify(out, null, 2);
  }
}

interface PeerStatsOut {
  limits: Record<string, number>;
  current: Record<string, number>;
  counters: Record<string, number>;
}

/** The peer manager's limits with what each holds now, and the limits hit (the counters not at 0). */
function peerLimitLines(peers: PeerStatsOut | null | undefined): string[] {
  if (!peers) return [];
  const { limits: l, current: c } = peers;
  const hits = Object.entries(peers.counters).filter(([, n]) => n > 0);
  return [
    '',
    `peers: ${c.peers} connected; inbound ${c.inboundConnections}/${l.maxInboundConnections} (per IP ${l.maxInboundPerIp}), ` +
      `handshakes ${c.inboundHandshakes}/${l.maxInboundHandshakes}, dials ${c.dialsInFlight}/${l.maxDialsInFlight}, ` +
      `queued ${c.queuedBytes} bytes (per peer ${l.maxQueueBytes})`,
    hits.length ? `limits hit: ${hits.map(([name, n]) => `${name} ${n}`).join(', ')}` : 'limits hit: none',
  ];
}

/** A whole number of sat as BTC with its 8 decimals ("5000000000" → "50.00000000"); exact, no float. */
function btc(sat: string): string {
  if (!/^[0-9]+$/.test(sat)) return '?';
  const v = BigInt(sat);
  return `${v / 100_000_000n}.${(v % 100_000_000n).toString().padStart(8, '0')}`;
}

interface InvoiceOut {
  network: string;
  payee: string;
  amountMsat: string | null;
  paymentHash: string;
  hasPaymentSecret: boolean;
  description: string | null;
  descriptionHash: string | null;
  timestamp: number;
  expirySeconds: number;
  minFinalCltvExpiry: number;
  features: { names: string[] } | null;
  routeHints:
    | {
        nodeId: string;
        shortChannelId: string;
        feeBaseMsat: number;
        feeProportionalMillionths: number;
        cltvExpiryDelta: number;
      }[][]
    | null;
  fallbacks: string[] | null;
}

function invoiceText(out: Json): string {
  const inv = out as unknown as InvoiceOut;
  const expiresAt = inv.timestamp + inv.expirySeconds;
  const expired = Date.now() / 1000 > expiresAt;
  const lines = [
    `network:               ${inv.network}`,
    `payee:                 ${inv.payee}`,
    `amount:                ${inv.amountMsat === null ? 'any (the payer chooses)' : `${inv.amountMsat} msat`}`,
    `payment hash:          ${inv.paymentHash}`,
    `payment secret:        ${inv.hasPaymentSecret ? 'present' : 'absent'}`,
    inv.description !== null
      ? `description:           ${JSON.stringify(inv.description)}`
      : `description hash:      ${inv.descriptionHash}`,
    `created:               ${new Date(inv.timestamp * 1000).toISOString()}`,
    `expiry:                ${inv.expirySeconds} s (${expired ? 'expired' : 'expires'} ${new Date(expiresAt * 1000).toISOString()})`,
    `min_final_cltv_expiry: ${inv.minFinalCltvExpiry} blocks`,
    `features:              ${inv.features ? inv.features.names.join(', ') : 'none'}`,
  ];
  if (inv.fallbacks) lines.push(`fallbacks:             ${inv.fallbacks.join(', ')}`);
  if (!inv.routeHints) lines.push('route hints:           none');
  else
    inv.routeHints.forEach((hint, i) => {
      lines.push(`route hint ${i + 1}:`);
      for (const h of hint)
        lines.push(
          `  from ${h.nodeId} over ${h.shortChannelId}: fee ${h.feeBaseMsat} msat + ${h.feeProportionalMillionths} ppm, cltv delta ${h.cltvExpiryDelta}`,
        );
    });
  return lines.join('\n');
}

/** The node's refusal: its JSON with --json, else its message on stderr; exit code 1. */
function refused(text: string, json: boolean): number {
  let message = text;
  try {
    const e = (JSON.parse(text) as { error: { message: string } }).error;
    message = e.message;
  } catch {
    /* not JSON */
  }
  if (json) process.stdout.write(`${jsonForTerminal(text)}\n`);
  else process.stderr.write(`lnkit-cli: ${forTerminal(message)}\n`);
  return 1;
}

/**
 * Follows GET /v1/events until lnkitd ends it (it stopped) or the connection drops: exit code 3,
 * as for a lnkitd not reachable. Each event is a line: its JSON record with --json.
 */
async function follow(client: Client, path: string, json: boolean): Promise<number> {
  const res = await client.stream(path);
  if (res.status !== 200) return refused(await res.text(), json);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      for (const e of parser.push(decoder.decode(chunk, { stream: true })))
        process.stdout.write(json ? `${jsonForTerminal(e.data)}\n` : `${forTerminal(eventLine(e))}\n`);
    }
  } catch (e) {
    throw new ConnectError(`the event stream from lnkitd at ${client.base} broke: ${(e as Error).message}`);
  }
  process.stderr.write(`lnkit-cli: lnkitd at ${client.base} ended the event stream (it is stopping)\n`);
  return 3;
}

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  let request: { method: 'GET' | 'POST'; path: string; body?: unknown };
  const { rest } = args;
  switch (args.command) {
    case 'getinfo':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/getinfo' };
      break;
    case 'listpeers':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/listpeers' };
      break;
    case 'connect':
      need(rest, 1, 'one argument: NODEID@HOST:PORT');
      request = { method: 'POST', path: '/v1/connect', body: { peer: rest[0] } };
      break;
    case 'disconnect':
      need(rest, 1, 'one argument: NODEID');
      request = { method: 'POST', path: '/v1/disconnect', body: { nodeId: rest[0] } };
      break;
    case 'metrics':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: `/v1/metrics${args.prometheus ? '?format=prometheus' : ''}` };
      break;
    case 'profile':
      need(rest, 1, 'one argument: ACTOR (and --seconds N)');
      if (!args.seconds) throw new UsageError('profile needs --seconds N');
      request = {
        method: 'POST',
        path: '/v1/profile',
        // Sent as typed: the API checks it and names what it got ("x", not null for NaN).
        body: { actor: rest[0], seconds: args.seconds },
      };
      break;
    case 'decodeinvoice':
      need(rest, 1, 'one argument: the BOLT 11 invoice');
      request = { method: 'POST', path: '/v1/decodeinvoice', body: { invoice: rest[0] } };
      break;
    case 'mine':
      need(rest, 1, 'one argument: the number of blocks');
      request = { method: 'POST', path: '/v1/mine', body: { blocks: rest[0] } };
      break;
    case 'newaddress':
      need(rest, 0, 'no arguments');
      request = { method: 'POST', path: '/v1/newaddress' };
      break;
    case 'balance':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/balance' };
      break;
    case 'graphinfo':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/graphinfo' };
      break;
    case 'listnodes':
    case 'listgraphchannels': {
      need(rest, 0, 'no arguments (and --limit N, --after I)');
      const q = new URLSearchParams();
      if (args.values['--limit'] !== undefined) q.set('limit', args.values['--limit']);
      if (args.values['--after'] !== undefined) q.set('after', args.values['--after']);
      request = { method: 'GET', path: `/v1/${args.command}${q.size ? `?${q}` : ''}` };
      break;
    }
    case 'getnode':
      need(rest, 1, 'one argument: NODEID');
      request = { method: 'POST', path: '/v1/getnode', body: { nodeId: rest[0] } };
      break;
    case 'queryroutes': {
      need(rest, 2, 'two arguments: NODEID MSAT (and --max-fee-msat N)');
      const maxFee = args.values['--max-fee-msat'];
      request = {
        method: 'POST',
        path: '/v1/queryroutes',
        body: {
          nodeId: rest[0],
          amountMsat: rest[1],
          ...(maxFee !== undefined ? { maxFeeMsat: maxFee } : {}),
        },
      };
      break;
    }
    case 'openchannel': {
      need(rest, 2, 'two arguments: NODEID SATS (and --push-msat N, --type T, --public)');
      const push = args.values['--push-msat'];
      const type = args.values['--type'];
      request = {
        method: 'POST',
        path: '/v1/openchannel',
        // Sent as typed: the API checks each and names the one that is wrong.
        body: {
          nodeId: rest[0],
          amountSat: rest[1],
          ...(push !== undefined ? { pushMsat: push } : {}),
          ...(type !== undefined ? { type } : {}),
          ...(args.flags.has('--public') ? { public: true } : {}),
        },
      };
      break;
    }
    case 'listchannels':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/listchannels' };
      break;
    case 'closechannel':
      need(rest, 1, 'one argument: CHANNEL_ID (and --force)');
      request = {
        method: 'POST',
        path: '/v1/closechannel',
        body: { channelId: rest[0], ...(args.flags.has('--force') ? { force: true } : {}) },
      };
      break;
    case 'events': {
      need(rest, 0, 'no arguments (and --since SEQ)');
      const since = args.values['--since'];
      return follow(
        new Client(args.dataDir),
        `/v1/events${since !== undefined ? `?since=${encodeURIComponent(since)}` : ''}`,
        args.json,
      );
    }
    case 'forwardinghistory':
      need(rest, 0, 'no arguments (and --since TIME)');
      request = forwardRequest(args.values['--since']);
      break;
    case 'intercepted':
      need(rest, 0, 'no arguments');
      request = { method: 'GET', path: '/v1/intercepted' };
      break;
    case 'resolvehtlc':
      if (rest.length < 2 || rest.length > 3 || (rest[1] !== 'resume' && rest.length !== 3))
        throw new UsageError('resolvehtlc takes ID resume, ID fail FAILURE or ID settle PREIMAGE');
      request = resolveHtlcRequest(rest);
      break;
    case 'setfees':
      need(
        rest,
        1,
        'CHANNEL_ID or all (and --base-msat N, --ppm N, --cltv-delta N, --htlc-min-msat N, --htlc-max-msat N)',
      );
      request = setFeesRequest(rest[0]!, args.values);
      break;
    default: {
      const payment = paymentRequest(
        args.command,
        rest,
        {
          description: args.values['--description'],
          expiry: args.values['--expiry'],
          amountMsat: args.values['--amount-msat'],
          paymentId: args.values['--payment-id'],
        },
        need,
      );
      if (!payment) throw new UsageError(`unknown command "${args.command}"`);
      request = payment;
    }
  }
  const client = new Client(args.dataDir);
  const { status, text } = await client.call(request.method, request.path, request.body);
  if (status !== 200) return refused(text, args.json);
  if (args.prometheus) process.stdout.write(forTerminal(text.endsWith('\n') ? text : `${text}\n`));
  else if (args.json) process.stdout.write(`${jsonForTerminal(text)}\n`);
  else process.stdout.write(`${forTerminal(human(args.command, JSON.parse(text) as Json))}\n`);
  return 0;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (e) {
  const message = forTerminal((e as Error).message);
  if (e instanceof UsageError) {
    process.stderr.write(`lnkit-cli: ${message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof ConnectError) {
    process.stderr.write(`lnkit-cli: ${message}\n`);
    process.exitCode = 3;
  } else {
    process.stderr.write(`lnkit-cli: ${message}\n`);
    process.exitCode = 1;
  }
}
