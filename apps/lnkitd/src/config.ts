/**
 * lnkitd's configuration: defaults, then `lnkit.conf` in the data dir (key=value lines),
 * then LNKIT_* environment variables, then command-line flags. Later sources win.
 * Every bad value is a ConfigError naming the option and what is wrong with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type Network = 'regtest' | 'testnet' | 'signet' | 'bitcoin';
const NETWORKS: readonly string[] = ['regtest', 'testnet', 'signet', 'bitcoin'];
const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface HostPort {
  host: string;
  port: number;
}

export interface DaemonConfig {
  dataDir: string;
  network: Network;
  listen: HostPort | null;
  api: HostPort;
  chain: 'embedded' | 'bitcoind';
  bitcoindRpc?: string;
  bitcoindRpcUser?: string;
  bitcoindRpcPassword?: string;
  bitcoindRpcCookie?: string;
  /** Port of the embedded chain's JSON-RPC (0: any free port). */
  embeddedRpcPort: number;
  alias: string;
  logLevel: string;
  placement: 'worker' | 'in-process';
}

/** The options, as they are spelled in flags (--name), lnkit.conf (name=) and env (LNKIT_NAME). */
export const OPTIONS = {
  datadir: 'data directory (default ~/.lnkit)',
  network: 'regtest (default), testnet, signet or bitcoin',
  listen: 'HOST:PORT to accept peers on (default 127.0.0.1:9735; "off" to not listen)',
  api: 'HOST:PORT of the REST API (default 127.0.0.1:9736; loopback only)',
  chain: 'embedded (default: an in-process bcoin regtest node) or bitcoind',
  'bitcoind-rpc': 'URL of bitcoind JSON-RPC (implies --chain bitcoind)',
  'bitcoind-rpcuser': 'bitcoind RPC user',
  'bitcoind-rpcpassword': 'bitcoind RPC password',
  'bitcoind-rpccookie': 'bitcoind cookie file (instead of user and password)',
  'embedded-rpc-port': 'port of the embedded chain JSON-RPC (default: any free port)',
  alias: 'node alias (up to 32 bytes)',
  'log-level': 'fatal, error, warn, info (default), debug, trace',
  placement: 'worker (default) or in-process: where the actors run',
} as const;
type OptionName = keyof typeof OPTIONS;

export function parseHostPort(value: string, option: string): HostPort {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535)
    throw new ConfigError(`--${option} must be HOST:PORT (port 0-65535); got "${value}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function parseFile(path: string): Partial<Record<OptionName, string>> {
  const out: Partial<Record<OptionName, string>> = {};
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = line.slice(0, eq).trim();
      if (eq < 0 || !(key in OPTIONS)) throw new ConfigError(`${path}:${i + 1}: unknown setting "${line}"`);
      out[key as OptionName] = line.slice(eq + 1).trim();
    });
  return out;
}

export interface ParsedArgs {
  values: Partial<Record<OptionName, string>>;
  help: boolean;
  version: boolean;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: Partial<Record<OptionName, string>> = {};
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
      throw new ConfigError(`unexpected argument "${arg}" (options start with --; see --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(name in OPTIONS)) throw new ConfigError(`unknown option --${name} (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    values[name as OptionName] = value;
  }
  return { values, help, version };
}

function fromEnv(env: NodeJS.ProcessEnv): Partial<Record<OptionName, string>> {
  const out: Partial<Record<OptionName, string>> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const v = env[`LNKIT_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const flags = parseArgs(argv).values;
  const envValues = fromEnv(env);
  const dataDir = resolve(flags.datadir ?? envValues.datadir ?? join(homedir(), '.lnkit'));
  const confPath = join(dataDir, 'lnkit.conf');
  const file = existsSync(confPath) ? parseFile(confPath) : {};
  const v = { ...file, ...envValues, ...flags };

  const network = v.network ?? 'regtest';
  if (!NETWORKS.includes(network))
    throw new ConfigError(`--network must be one of ${NETWORKS.join(', ')}; got "${network}"`);
  const chain = v['bitcoind-rpc'] ? 'bitcoind' : (v.chain ?? 'embedded');
  if (chain !== 'embedded' && chain !== 'bitcoind')
    throw new ConfigError(`--chain must be embedded or bitcoind; got "${chain}"`);
  if (chain === 'embedded' && network !== 'regtest') {
    throw new ConfigError(
      `--chain embedded runs a regtest chain only; for ${network} give --bitcoind-rpc URL`,
    );
  }
  if (chain === 'bitcoind') {
    if (!v['bitcoind-rpc']) throw new ConfigError('--chain bitcoind needs --bitcoind-rpc URL');
    try {
      const u = new URL(v['bitcoind-rpc']);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError(
        `--bitcoind-rpc must be an http(s) URL; got "${v['bitcoind-rpc'].replace(/\/\/[^@/]*@/, '//***@')}"`,
      );
    }
    const u = new URL(v['bitcoind-rpc']);
    const hasUserPass = (v['bitcoind-rpcuser'] && v['bitcoind-rpcpassword']) || (u.username && u.password);
    if (!hasUserPass && !v['bitcoind-rpccookie']) {
      throw new ConfigError(
        'bitcoind needs credentials: --bitcoind-rpcuser and --bitcoind-rpcpassword, or --bitcoind-rpccookie FILE',
      );
    }
  }
  const logLevel = v['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got "${logLevel}"`);
  const alias = v.alias ?? '';
  if (Buffer.byteLength(alias, 'utf8') > 32)
    throw new ConfigError('--alias must be at most 32 bytes (BOLT 7)');
  const placement = v.placement ?? 'worker';
  if (placement !== 'worker' && placement !== 'in-process')
    throw new ConfigError(`--placement must be worker or in-process; got "${placement}"`);
  const api = parseHostPort(v.api ?? '127.0.0.1:9736', 'api');
  if (!['127.0.0.1', 'localhost', '::1'].includes(api.host)) {
    throw new ConfigError(`--api must be on loopback (127.0.0.1, ::1 or localhost); got "${api.host}"`);
  }
  const embeddedRpcPort = Number(v['embedded-rpc-port'] ?? '0');
  if (!Number.isInteger(embeddedRpcPort) || embeddedRpcPort < 0 || embeddedRpcPort > 65535) {
    throw new ConfigError(`--embedded-rpc-port must be a port number; got "${v['embedded-rpc-port']}"`);
  }
  return {
    dataDir,
    network: network as Network,
    listen: v.listen === 'off' ? null : parseHostPort(v.listen ?? '127.0.0.1:9735', 'listen'),
    api,
    chain,
    ...(v['bitcoind-rpc'] ? { bitcoindRpc: v['bitcoind-rpc'] } : {}),
    ...(v['bitcoind-rpcuser'] ? { bitcoindRpcUser: v['bitcoind-rpcuser'] } : {}),
    ...(v['bitcoind-rpcpassword'] ? { bitcoindRpcPassword: v['bitcoind-rpcpassword'] } : {}),
    ...(v['bitcoind-rpccookie'] ? { bitcoindRpcCookie: resolve(v['bitcoind-rpccookie']) } : {}),
    embeddedRpcPort,
    alias,
    logLevel,
    placement,
  };
}

export function usage(): string {
  const lines = Object.entries(OPTIONS).map(([k, d]) => `  --${k.padEnd(22)} ${d}`);
  return [
    'usage: lnkitd [options]',
    '',
    'Runs an lnkit Lightning node. Options may also be set in DATADIR/lnkit.conf (name=value)',
    'or as LNKIT_NAME environment variables; flags win over the environment, which wins over the file.',
    '',
    ...lines,
    '  --help                   this text',
    '  --version                print the version',
  ].join('\n');
}
