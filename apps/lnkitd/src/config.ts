/**
 * lnkitd's configuration: defaults, then `lnkit.conf` in the data dir (key=value lines),
 * then LNKIT_* environment variables, then command-line flags. Later sources win.
 * Every bad value is a ConfigError naming the option and what is wrong with it.
 *
 * Names are looked up in an explicit Map, never with `in` on an object: `constructor`,
 * `toString` or `__proto__` are not options. Numbers are decimal digits within a range, never
 * whatever Number() makes of them (`0x10`, `1e3`, ` 7 `).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DEFAULT_FORWARD_POLICY,
  DEFAULT_PEER_FORWARD_LIMITS,
  DEFAULT_PEER_LIMITS,
  MIN_CLTV_EXPIRY_DELTA,
} from '@lnkit/node';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES } from '@lnkit/runtime';
import { type ApiLimits, DEFAULT_API_LIMITS } from './api.ts';
import { ConfigError } from './errors.ts';
import { worldWritable } from './files.ts';
import { controlIndex, printable, shown } from './text.ts';

export { ConfigError } from './errors.ts';

export type Network = 'regtest' | 'testnet' | 'signet' | 'bitcoin';
const NETWORKS: readonly string[] = ['regtest', 'testnet', 'signet', 'bitcoin'];
const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** lnkit.conf is a few lines of settings; anything bigger is not one. */
const MAX_CONF_BYTES = 64 * 1024;

export interface HostPort {
  host: string;
  port: number;
}

export interface DaemonConfig {
  dataDir: string;
  network: Network;
  listen: HostPort | null;
  api: HostPort;
  apiLimits: ApiLimits;
  chain: 'embedded' | 'bitcoind';
  bitcoindRpc?: string;
  bitcoindRpcUser?: string;
  bitcoindRpcPassword?: string;
  bitcoindRpcCookie?: string;
  /** Port of the embedded chain's JSON-RPC (0: any free port). */
  embeddedRpcPort: number;
  alias: string;
  /** node_announcement rgb_color, RRGGBB (default: from the node id). */
  color?: string;
  /** Addresses our node_announcement gives (NodeConfig.announceAddresses; none by default). */
  announceAddresses: HostPort[];
  logLevel: string;
  /** lnkitd.log is rotated at maxBytes, keeping maxFiles files (the current one included). */
  log: { maxBytes: number; maxFiles: number };
  /** The peer manager's caps (NodeConfig.peerLimits). */
  peerLimits: PeerLimits;
  /** Our relay policy for forwards, every channel (NodeConfig.forwardPolicy). */
  forwardPolicy: { feeBaseMsat: number; feeProportionalMillionths: number; cltvExpiryDelta: number };
  /** What one upstream peer may have us forward (NodeConfig.forwardPeerLimits). */
  forwardPeerLimits: { maxInFlight: number; perSecond: number };
  /** The HTLC interceptor, when on (NodeConfig.interceptForwards). */
  interceptForwards?: { timeoutMs: number };
  /** Parts of a multi-part payment to us are held this long for the rest (NodeConfig.mppTimeoutMs). */
  mppTimeoutMs: number;
  /** Worker threads the channels step in (NodeConfig.channelThreads); 0: the manager's thread. */
  channelThreads: number;
  placement: 'worker' | 'in-process';
  /** Set when the operator allowed a data dir other users may write: main.ts warns about it. */
  worldWritableDataDir: boolean;
}

export interface PeerLimits {
  maxInboundConnections: number;
  maxInboundPerIp: number;
  maxInboundHandshakes: number;
  maxQueueBytes: number;
}

interface OptionSpec {
  readonly description: string;
  /** A switch: `--name` alone means true; as a value, `true` or `false`. */
  readonly flag?: true;
  /** Why lnkit.conf may not set it (the file is in the data dir it would configure or unlock). */
  readonly notInFile?: string;
}

const L = DEFAULT_API_LIMITS;
const P = DEFAULT_PEER_LIMITS;
const OPTION_LIST = [
  ['datadir', { description: 'data directory (default ~/.lnkit)', notInFile: 'the file is in the data dir' }],
  ['network', { description: 'regtest (default), testnet, signet or bitcoin' }],
  ['listen', { description: 'HOST:PORT to accept peers on (default 127.0.0.1:9735; "off" to not listen)' }],
  ['api', { description: 'HOST:PORT of the REST API (default 127.0.0.1:9736; loopback only)' }],
  [
    'api-max-connections',
    {
      description: `REST API connections open at once; more are closed unanswered (default ${L.maxConnections})`,
    },
  ],
  [
    'api-max-header-bytes',
    { description: `largest request line and headers; larger is a 431 (default ${L.maxHeaderBytes})` },
  ],
  [
    'api-max-body-bytes',
    { description: `largest request body; larger is a 413 (default ${L.maxBodyBytes})` },
  ],
  [
    'api-headers-timeout-ms',
    { description: `time to send the request line and headers, then 408 (default ${L.headersTimeoutMs})` },
  ],
  [
    'api-request-timeout-ms',
    { description: `time to send a whole request, body included, then 408 (default ${L.requestTimeoutMs})` },
  ],
  [
    'api-keepalive-timeout-ms',
    {
      description: `an idle kept-alive API connection is closed after this (default ${L.keepAliveTimeoutMs})`,
    },
  ],
  ['chain', { description: 'embedded (default: an in-process bcoin regtest node) or bitcoind' }],
  ['bitcoind-rpc', { description: 'URL of bitcoind JSON-RPC (implies --chain bitcoind)' }],
  ['bitcoind-rpcuser', { description: 'bitcoind RPC user' }],
  ['bitcoind-rpcpassword', { description: 'bitcoind RPC password' }],
  ['bitcoind-rpccookie', { description: 'bitcoind cookie file (instead of user and password)' }],
  ['embedded-rpc-port', { description: 'port of the embedded chain JSON-RPC (default: any free port)' }],
  ['alias', { description: 'node alias (up to 32 bytes)' }],
  ['color', { description: 'node color in our node_announcement, RRGGBB (default: from the node id)' }],
  [
    'announce-addr',
    { description: 'HOST:PORT[,HOST:PORT...] our node_announcement gives peers to reach us (default: none)' },
  ],
  ['log-level', { description: 'fatal, error, warn, info (default), debug, trace' }],
  [
    'log-max-bytes',
    { description: `lnkitd.log is rotated to lnkitd.log.1 at this size (default ${DEFAULT_LOG_MAX_BYTES})` },
  ],
  [
    'log-max-files',
    {
      description: `log files kept, lnkitd.log included; the oldest goes (default ${DEFAULT_LOG_MAX_FILES})`,
    },
  ],
  [
    'peer-max-inbound',
    {
      description: `inbound peer connections held at once; more are closed at accept (default ${P.maxInboundConnections})`,
    },
  ],
  [
    'peer-max-inbound-per-ip',
    { description: `of those, from one IPv4 address or IPv6 /64 (default ${P.maxInboundPerIp})` },
  ],
  [
    'peer-max-handshakes',
    {
      description: `of those, still in the BOLT 8 handshake or before init (default ${P.maxInboundHandshakes})`,
    },
  ],
  [
    'peer-max-queue-bytes',
    { description: `bytes queued for one peer before a send to it is refused (default ${P.maxQueueBytes})` },
  ],
  [
    'fee-base-msat',
    { description: `fee per forwarded HTLC, msat (default ${DEFAULT_FORWARD_POLICY.feeBaseMsat}, LDK's)` },
  ],
  [
    'fee-ppm',
    {
      description: `fee per forwarded msat, millionths (default ${DEFAULT_FORWARD_POLICY.feeProportionalMillionths}, LDK's)`,
    },
  ],
  [
    'cltv-delta',
    {
      description: `blocks between a forward's incoming and outgoing expiry (default ${DEFAULT_FORWARD_POLICY.cltvExpiryDelta}, LDK's)`,
    },
  ],
  [
    'max-forwards-in-flight-per-peer',
    {
      description: `HTLCs one upstream peer may have this node forward at once (default ${DEFAULT_PEER_FORWARD_LIMITS.maxInFlight})`,
    },
  ],
  [
    'max-forwards-per-second-per-peer',
    {
      description:
        'forwards a second one upstream peer may start, in bursts of 10 s worth (default 0: no limit)',
    },
  ],
  [
    'intercept-forwards',
    {
      description: 'hold every forward for the HTLC interceptor (GET /v1/intercepted, POST /v1/resolvehtlc)',
      flag: true,
    },
  ],
  [
    'intercept-timeout-ms',
    { description: 'a held forward not answered in this long is failed back (default 30000)' },
  ],
  [
    'mpp-timeout-ms',
    {
      description:
        'parts of a multi-part payment to us wait this long for the rest, then all fail back (default 60000)',
    },
  ],
  [
    'channel-threads',
    {
      description:
        'worker threads the channels step in, beside the channel manager (default 0: in its thread); a forward between two of them uses two cores',
    },
  ],
  ['placement', { description: 'worker (default) or in-process: where the actors run' }],
  [
    'allow-world-writable-datadir',
    {
      description: 'start even if other local users may write the data dir or lnkit.conf (flag or env only)',
      flag: true,
      notInFile: 'whoever can write the file could turn the check off',
    },
  ],
] as const satisfies readonly (readonly [string, OptionSpec])[];

export type OptionName = (typeof OPTION_LIST)[number][0];
/** The options, as they are spelled in flags (--name), lnkit.conf (name=) and env (LNKIT_NAME). */
export const OPTIONS: ReadonlyMap<string, OptionSpec> = new Map<string, OptionSpec>(OPTION_LIST);
const isOption = (name: string): name is OptionName => OPTIONS.has(name);
const envName = (name: string) => `LNKIT_${name.toUpperCase().replace(/-/g, '_')}`;

export type OptionValues = Map<OptionName, string>;

export function parseHostPort(value: string, option: string): HostPort {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):([0-9]{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535)
    throw new ConfigError(`--${option} must be HOST:PORT (port 0-65535); got ${shown(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A whole number written in decimal digits only, from min to max. */
export function parseIntOption(value: string, option: string, min: number, max: number): number {
  const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new ConfigError(
      `--${option} must be a whole number from ${min} to ${max} in decimal digits; got ${shown(value)}`,
    );
  return n;
}

function parseFlag(value: string, option: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`--${option} is true or false; got ${shown(value)}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * lnkit.conf: name=value lines, # comments. A file that is not text (a binary put there by
 * mistake) is refused naming the line, and its bytes are never echoed.
 */
function parseFile(path: string): OptionValues {
  const out: OptionValues = new Map();
  const size = statSync(path).size;
  if (size > MAX_CONF_BYTES)
    throw new ConfigError(
      `${path} is ${size} bytes: not a config file (lnkit.conf holds name=value lines, at most ${MAX_CONF_BYTES} bytes)`,
      'invalid-config-file',
    );
  const bytes = readFileSync(path);
  for (let lineStart = 0, lineNo = 1; lineStart <= bytes.length; lineNo++) {
    const newline = bytes.indexOf(0x0a, lineStart);
    const end = newline < 0 ? bytes.length : newline;
    const at = `${path}:${lineNo}`;
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(lineStart, end));
    } catch {
      throw new ConfigError(
        `${at}: not UTF-8 text; lnkit.conf holds name=value lines`,
        'invalid-config-file',
      );
    }
    lineStart = end + 1;
    // A Windows line end is text; a tab is white space.
    const line = text.replace(/\r$/, '').replace(/\t/g, ' ').trim();
    const control = controlIndex(line);
    if (control >= 0) {
      const code = line.charCodeAt(control).toString(16).padStart(2, '0');
      throw new ConfigError(
        `${at}: control character 0x${code} at column ${control + 1}; lnkit.conf holds name=value lines of text`,
        'invalid-config-file',
      );
    }
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq).trim();
    if (eq < 0 || !isOption(key))
      throw new ConfigError(`${at}: unknown setting ${shown(line)}`, 'invalid-config-file');
    const reason = OPTIONS.get(key)!.notInFile;
    if (reason)
      throw new ConfigError(`${at}: ${key} cannot be set in lnkit.conf (${reason})`, 'invalid-config-file');
    out.set(key, line.slice(eq + 1).trim());
  }
  return out;
}

export interface ParsedArgs {
  values: OptionValues;
  help: boolean;
  version: boolean;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: OptionValues = new Map();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    if (!arg.startsWith('--'))
      throw new ConfigError(`unexpected argument ${shown(arg)} (options start with --; see --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!isOption(name)) throw new ConfigError(`unknown option --${printable(name, 80)} (see --help)`);
    const value = OPTIONS.get(name)!.flag ? (inline ?? 'true') : (inline ?? argv[++i]);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    values.set(name, value);
  }
  return { values, help, version };
}

function fromEnv(env: NodeJS.ProcessEnv): OptionValues {
  const out: OptionValues = new Map();
  for (const [name] of OPTION_LIST) {
    const v = env[envName(name)];
    if (v !== undefined && v !== '') out.set(name, v);
  }
  return out;
}

/**
 * Anyone who can write the data dir can replace lnkit.conf (point the node at their own bitcoind),
 * the API token or, before the first start, the seed. Refused unless the operator said otherwise
 * (as a flag or in the environment: lnkit.conf is one of the files at stake).
 */
function checkWritableByOthers(dataDir: string, confPath: string, allowed: boolean): boolean {
  const unsafe = [dataDir, confPath].filter((p) => existsSync(p) && worldWritable(p));
  if (unsafe.length === 0) return false;
  if (allowed) return true;
  throw new ConfigError(
    `${unsafe.join(' and ')} ${unsafe.length > 1 ? 'are' : 'is'} writable by every local user, who could ` +
      `then change the node's settings or keys; run chmod o-w on ${unsafe.length > 1 ? 'them' : 'it'}, ` +
      'or start with --allow-world-writable-datadir if this is meant',
    'data-dir',
  );
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const flags = parseArgs(argv).values;
  const envValues = fromEnv(env);
  const early = new Map([...envValues, ...flags]);
  const dataDir = resolve(early.get('datadir') ?? join(homedir(), '.lnkit'));
  const confPath = join(dataDir, 'lnkit.conf');
  const allowWorldWritable = parseFlag(
    early.get('allow-world-writable-datadir') ?? 'false',
    'allow-world-writable-datadir',
  );
  const worldWritableDataDir = checkWritableByOthers(dataDir, confPath, allowWorldWritable);
  const file = existsSync(confPath) ? parseFile(confPath) : new Map();
  const all: OptionValues = new Map([...file, ...envValues, ...flags]);
  const v = (name: OptionName) => all.get(name);

  const network = v('network') ?? 'regtest';
  if (!NETWORKS.includes(network))
    throw new ConfigError(`--network must be one of ${NETWORKS.join(', ')}; got ${shown(network)}`);
  const chain = v('bitcoind-rpc') ? 'bitcoind' : (v('chain') ?? 'embedded');
  if (chain !== 'embedded' && chain !== 'bitcoind')
    throw new ConfigError(`--chain must be embedded or bitcoind; got ${shown(chain)}`);
  if (chain === 'embedded' && network !== 'regtest') {
    throw new ConfigError(
      `--chain embedded runs a regtest chain only; for ${network} give --bitcoind-rpc URL`,
    );
  }
  const rpc = v('bitcoind-rpc');
  if (chain === 'bitcoind') {
    if (!rpc) throw new ConfigError('--chain bitcoind needs --bitcoind-rpc URL');
    let u: URL | undefined;
    try {
      u = new URL(rpc);
    } catch {}
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      throw new ConfigError(
        `--bitcoind-rpc must be an http(s) URL; got ${shown(rpc.replace(/\/\/[^@/]*@/, '//***@'))}`,
      );
    const hasUserPass = (v('bitcoind-rpcuser') && v('bitcoind-rpcpassword')) || (u.username && u.password);
    if (!hasUserPass && !v('bitcoind-rpccookie')) {
      throw new ConfigError(
        'bitcoind needs credentials: --bitcoind-rpcuser and --bitcoind-rpcpassword, or --bitcoind-rpccookie FILE',
      );
    }
  }
  const logLevel = v('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got ${shown(logLevel)}`);
  const alias = v('alias') ?? '';
  if (Buffer.byteLength(alias, 'utf8') > 32)
    throw new ConfigError('--alias must be at most 32 bytes (BOLT 7)');
  if (controlIndex(alias) >= 0) throw new ConfigError(`--alias must be printable text; got ${shown(alias)}`);
  const color = v('color');
  if (color !== undefined && !/^[0-9a-fA-F]{6}$/.test(color))
    throw new ConfigError(`--color must be 6 hex digits (RRGGBB); got ${shown(color)}`);
  const announceAddresses = (v('announce-addr') ?? '')
    .split(',')
    .filter((a) => a.trim() !== '')
    .map((a) => {
      const hp = parseHostPort(a, 'announce-addr');
      if (hp.port === 0)
        throw new ConfigError(`--announce-addr needs a port from 1 to 65535; got ${shown(a)}`);
      return hp;
    });
  const placement = v('placement') ?? 'worker';
  if (placement !== 'worker' && placement !== 'in-process')
    throw new ConfigError(`--placement must be worker or in-process; got ${shown(placement)}`);
  const api = parseHostPort(v('api') ?? '127.0.0.1:9736', 'api');
  if (!['127.0.0.1', 'localhost', '::1'].includes(api.host)) {
    throw new ConfigError(`--api must be on loopback (127.0.0.1, ::1 or localhost); got ${shown(api.host)}`);
  }
  const int = (name: OptionName, fallback: number, min: number, max: number) => {
    const raw = v(name);
    return raw === undefined ? fallback : parseIntOption(raw, name, min, max);
  };
  const embeddedRpcPort = int('embedded-rpc-port', 0, 0, 65535);
  const apiLimits: ApiLimits = {
    maxConnections: int('api-max-connections', L.maxConnections, 1, 10_000),
    // Below 1 KiB a request with its token would not fit; above 1 MiB is no longer a limit.
    maxHeaderBytes: int('api-max-header-bytes', L.maxHeaderBytes, 1024, 1024 * 1024),
    maxBodyBytes: int('api-max-body-bytes', L.maxBodyBytes, 1024, 16 * 1024 * 1024),
    headersTimeoutMs: int('api-headers-timeout-ms', L.headersTimeoutMs, 100, 600_000),
    requestTimeoutMs: int('api-request-timeout-ms', L.requestTimeoutMs, 100, 3_600_000),
    keepAliveTimeoutMs: int('api-keepalive-timeout-ms', L.keepAliveTimeoutMs, 100, 600_000),
  };
  // Node refuses a server whose headers may take longer than the whole request.
  if (apiLimits.headersTimeoutMs > apiLimits.requestTimeoutMs)
    throw new ConfigError(
      `--api-headers-timeout-ms (${apiLimits.headersTimeoutMs}) must not be over --api-request-timeout-ms (${apiLimits.requestTimeoutMs})`,
    );
  const log = {
    // Under 64 KiB a few lines would rotate; over 1 GiB a file is no longer one to read.
    maxBytes: int('log-max-bytes', DEFAULT_LOG_MAX_BYTES, 64 * 1024, 1024 * 1024 * 1024),
    maxFiles: int('log-max-files', DEFAULT_LOG_MAX_FILES, 1, 100),
  };
  const peerLimits: PeerLimits = {
    maxInboundConnections: int('peer-max-inbound', P.maxInboundConnections, 1, 100_000),
    maxInboundPerIp: int('peer-max-inbound-per-ip', P.maxInboundPerIp, 1, 100_000),
    maxInboundHandshakes: int('peer-max-handshakes', P.maxInboundHandshakes, 1, 100_000),
    // Room for at least two of the largest messages (BOLT 8: 65,535 bytes each) and their framing.
    maxQueueBytes: int('peer-max-queue-bytes', P.maxQueueBytes, 256 * 1024, 1024 * 1024 * 1024),
  };
  const F = DEFAULT_FORWARD_POLICY;
  // BOLT 7: fee_base_msat and fee_proportional_millionths are u32, cltv_expiry_delta a u16
  // (below 18 blocks a forward could not be claimed on chain in time: BOLT 2's minimum advice).
  const forwardPolicy = {
    feeBaseMsat: int('fee-base-msat', F.feeBaseMsat, 0, 0xffff_ffff),
    feeProportionalMillionths: int('fee-ppm', F.feeProportionalMillionths, 0, 0xffff_ffff),
    cltvExpiryDelta: int('cltv-delta', F.cltvExpiryDelta, MIN_CLTV_EXPIRY_DELTA, 0xffff),
  };
  const forwardPeerLimits = {
    maxInFlight: int(
      'max-forwards-in-flight-per-peer',
      DEFAULT_PEER_FORWARD_LIMITS.maxInFlight,
      1,
      1_000_000,
    ),
    perSecond: int('max-forwards-per-second-per-peer', DEFAULT_PEER_FORWARD_LIMITS.perSecond, 0, 1_000_000),
  };
  const intercept = parseFlag(v('intercept-forwards') ?? 'false', 'intercept-forwards');
  const interceptTimeoutMs = int('intercept-timeout-ms', 30_000, 100, 24 * 3600_000);
  const mppTimeoutMs = int('mpp-timeout-ms', 60_000, 100, 24 * 3600_000);
  const channelThreads = int('channel-threads', 0, 0, 64);
  const listen = v('listen');
  return {
    dataDir,
    network: network as Network,
    listen: listen === 'off' ? null : parseHostPort(listen ?? '127.0.0.1:9735', 'listen'),
    api,
    apiLimits,
    chain,
    ...(rpc ? { bitcoindRpc: rpc } : {}),
    ...(v('bitcoind-rpcuser') ? { bitcoindRpcUser: v('bitcoind-rpcuser')! } : {}),
    ...(v('bitcoind-rpcpassword') ? { bitcoindRpcPassword: v('bitcoind-rpcpassword')! } : {}),
    ...(v('bitcoind-rpccookie') ? { bitcoindRpcCookie: resolve(v('bitcoind-rpccookie')!) } : {}),
    embeddedRpcPort,
    alias,
    ...(color !== undefined ? { color } : {}),
    announceAddresses,
    logLevel,
    log,
    peerLimits,
    forwardPolicy,
    forwardPeerLimits,
    ...(intercept ? { interceptForwards: { timeoutMs: interceptTimeoutMs } } : {}),
    mppTimeoutMs,
    channelThreads,
    placement,
    worldWritableDataDir,
  };
}

export function usage(): string {
  const lines = OPTION_LIST.map(([k, d]) => `  --${k.padEnd(30)} ${d.description}`);
  return [
    'usage: lnkitd [options]',
    '',
    'Runs an lnkit Lightning node. Options may also be set in DATADIR/lnkit.conf (name=value)',
    'or as LNKIT_NAME environment variables; flags win over the environment, which wins over the file.',
    '',
    ...lines,
    `  --${'help'.padEnd(30)} this text`,
    `  --${'version'.padEnd(30)} print the version`,
  ].join('\n');
}
