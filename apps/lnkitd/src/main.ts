/**
 * lnkitd: starts an lnkit node (LDK guide steps 1-8 and 13-15), its REST API and, by
 * default, an embedded bcoin regtest chain, so one command runs a whole node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LNKIT_VERSION, type LnkitNode, NodeBuilder, NodeError } from '@lnkit/node';
import {
  actorLogger,
  createRootLogger,
  type LogFile,
  type LogFileFault,
  type Logger,
  logFileDestination,
  stdoutDestination,
} from '@lnkit/runtime';
import type { TestChain } from '@lnkit/testchain';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { createApiServer } from './api.ts';
import { ConfigError, type DaemonConfig, loadConfig, parseArgs, usage } from './config.ts';
import {
  claimDataDir,
  EMBEDDED_CHAIN_FILE,
  LOG_FILE,
  loadOrCreateToken,
  lockHeldMessage,
  prepareDataDir,
  releaseDataDir,
  removeRuntimeInfo,
  writeFileDurable,
  writeRuntimeInfo,
} from './files.ts';
import { printable } from './text.ts';

/**
 * The log: lnkitd.log, rotated by size (--log-max-bytes, --log-max-files; the worker actors
 * append to the same file and follow its rotation), and the console. A full disk drops log
 * lines, counted and said once, instead of an 'error' that would end the process;
 * `onFault` hears when that begins and ends.
 */
function makeLogger(
  cfg: DaemonConfig,
  onFault: (fault: LogFileFault | null) => void,
): { log: Logger; file: LogFile } {
  const file = logFileDestination(join(cfg.dataDir, LOG_FILE), {
    maxBytes: cfg.log.maxBytes,
    maxFiles: cfg.log.maxFiles,
    onFault,
  });
  const console = process.stdout.isTTY ? pretty({ colorize: true, destination: 1 }) : stdoutDestination();
  const log = createRootLogger({
    level: cfg.logLevel as 'info',
    destination: pino.multistream([
      { stream: file, level: cfg.logLevel as 'info' },
      { stream: console, level: cfg.logLevel as 'info' },
    ]),
  });
  return { log, file };
}

async function startChain(
  cfg: DaemonConfig,
  log: Logger,
): Promise<{
  rpc: { url: string; auth: { user: string; password: string } | { cookieFile: string } };
  embedded?: TestChain;
}> {
  if (cfg.chain === 'bitcoind') {
    const url = new URL(cfg.bitcoindRpc!);
    const auth = cfg.bitcoindRpcCookie
      ? { cookieFile: cfg.bitcoindRpcCookie }
      : {
          user: cfg.bitcoindRpcUser ?? decodeURIComponent(url.username),
          password: cfg.bitcoindRpcPassword ?? decodeURIComponent(url.password),
        };
    url.username = '';
    url.password = '';
    return { rpc: { url: url.toString(), auth } };
  }
  process.env.NODE_BACKEND ??= 'js';
  const { startTestChain } = await import('@lnkit/testchain');
  log.info('starting the embedded bcoin regtest chain');
  // Kept on disk in the data dir, so the node's chain tip is still there after a restart; the
  // RPC credentials are kept too, so other processes using the chain keep working across restarts.
  const credentialsFile = join(cfg.dataDir, EMBEDDED_CHAIN_FILE);
  let previous: { rpcUser?: string; rpcPassword?: string } = {};
  if (existsSync(credentialsFile)) {
    try {
      previous = JSON.parse(readFileSync(credentialsFile, 'utf8')) as typeof previous;
    } catch {
      throw new ConfigError(
        `${credentialsFile} is not valid JSON; delete it to have new embedded chain credentials made`,
      );
    }
  }
  const chain = await startTestChain({
    port: cfg.embeddedRpcPort,
    dataDir: join(cfg.dataDir, 'chain'),
    ...(previous.rpcUser && previous.rpcPassword
      ? { rpcUser: previous.rpcUser, rpcPassword: previous.rpcPassword }
      : {}),
  });
  // Other processes (a second lnkitd, scripts) reach the embedded chain through this file.
  writeFileDurable(
    credentialsFile,
    `${JSON.stringify({ rpcUrl: chain.rpcUrl, rpcUser: chain.rpcUser, rpcPassword: chain.rpcPassword }, null, 2)}\n`,
    0o600,
  );
  log.info(
    { rpcUrl: chain.rpcUrl },
    `embedded regtest chain JSON-RPC at ${chain.rpcUrl} (credentials in ${EMBEDDED_CHAIN_FILE})`,
  );
  return {
    rpc: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
    embedded: chain,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let cfg: DaemonConfig;
  try {
    const { help, version } = parseArgs(argv);
    if (help) {
      console.log(usage());
      return;
    }
    if (version) {
      console.log(`lnkitd ${LNKIT_VERSION}`);
      return;
    }
    cfg = loadConfig(argv);
    prepareDataDir(cfg.dataDir);
    const holder = claimDataDir(cfg.dataDir);
    if (holder !== null) throw new ConfigError(lockHeldMessage(cfg.dataDir, holder), 'data-dir-in-use');
  } catch (e) {
    // One line, never a control byte from a file or an argument echoed raw to the terminal.
    console.error(`lnkitd: ${printable((e as Error).message, 2000)}`);
    process.exitCode = 2;
    return;
  }

  let node: LnkitNode | undefined;
  // The log file's fault, shown in getinfo once the node runs (and from then on as it changes).
  let logFault: LogFileFault | null = null;
  const { log, file: logFile } = makeLogger(cfg, (fault) => {
    logFault = fault;
    node?.reportFault('log-unwritable', fault?.message ?? null);
  });
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));

  let embedded: TestChain | undefined;
  let server: ReturnType<typeof createApiServer> | undefined;
  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    server?.close();
    server?.closeAllConnections();
    try {
      await node?.stop();
      await embedded?.stop();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'error while stopping');
    }
    removeRuntimeInfo(cfg.dataDir);
    releaseDataDir(cfg.dataDir);
    log.flush();
    setTimeout(() => process.exit(exitCode), 50).unref();
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    log.info(
      { dataDir: cfg.dataDir, network: cfg.network, chain: cfg.chain },
      `lnkitd ${LNKIT_VERSION} starting`,
    );
    if (cfg.worldWritableDataDir)
      log.warn(
        { dataDir: cfg.dataDir },
        'the data dir or lnkit.conf is writable by every local user (allowed by --allow-world-writable-datadir): ' +
          "any of them can change this node's settings or keys",
      );
    const token = loadOrCreateToken(cfg.dataDir);
    const chain = await startChain(cfg, log);
    embedded = chain.embedded;
    node = await new NodeBuilder({
      dataDir: cfg.dataDir,
      network: cfg.network,
      chain: chain.rpc,
      listen: cfg.listen,
      alias: cfg.alias,
      ...(cfg.color !== undefined ? { color: cfg.color } : {}),
      announceAddresses: cfg.announceAddresses,
      // bcoin, the embedded chain, writes its regtest addresses rb1...; bitcoind writes bcrt1...
      ...(cfg.chain === 'embedded' ? { regtestAddressPrefix: 'rb' as const } : {}),
      placement: cfg.placement,
      logFile: join(cfg.dataDir, LOG_FILE),
      logLevel: cfg.logLevel,
      peerLimits: cfg.peerLimits,
      forwardPolicy: cfg.forwardPolicy,
      forwardPeerLimits: cfg.forwardPeerLimits,
      ...(cfg.interceptForwards ? { interceptForwards: cfg.interceptForwards } : {}),
      mppTimeoutMs: cfg.mppTimeoutMs,
      channelThreads: cfg.channelThreads,
    })
      .withLogger(log)
      .build();
    // A channel thread that died leaves its channels unanswered: stop, so that a restart
    // (the service manager's) resumes them from the data dir.
    node.events$.subscribe((e) => {
      if (e.type === 'channel-thread-died')
        void shutdown(`channel thread ${e.thread} died (${e.message})`, 1);
    });
    // Set by the log file's callback meanwhile, which TypeScript cannot see.
    const faultSoFar = logFault as LogFileFault | null;
    if (faultSoFar) node.reportFault('log-unwritable', faultSoFar.message);
    // The coinbases pay the node's own wallet, so `mine 101` leaves it coins it can spend.
    const miner = node;
    const mine = embedded ? async (n: number) => embedded!.mine(n, await miner.coinbaseScript()) : undefined;
    server = createApiServer({
      node,
      token,
      logger: actorLogger(log, 'api'),
      limits: cfg.apiLimits,
      logStats: () => logFile.stats(),
      ...(mine ? { mine } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new ConfigError(
            `--api ${cfg.api.host}:${cfg.api.port}: cannot serve the REST API there: ${
              e.code === 'EADDRINUSE' ? 'the address is already in use' : e.message
            }`,
          ),
        ),
      );
      server!.listen(cfg.api.port, cfg.api.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : cfg.api.port;
    const api = `http://${cfg.api.host.includes(':') ? `[${cfg.api.host}]` : cfg.api.host}:${port}`;
    writeRuntimeInfo(cfg.dataDir, { api, pid: process.pid, nodeId: node.nodeId, network: cfg.network });
    log.info({ nodeId: node.nodeId, api }, `lnkitd ready: node ${node.nodeId}, REST API at ${api}`);
  } catch (e) {
    const err = e as Error & { code?: string };
    // The user sees what is wrong, never a stack trace; the stack goes to the debug log.
    const hint =
      e instanceof NodeError && e.code === 'listen-failed'
        ? ' (see --listen)'
        : e instanceof NodeError && (e.code === 'seed-missing' || e.code === 'seed-mismatch')
          ? ' (see --datadir)'
          : '';
    const message = `${err.message}${hint}`;
    log.debug({ err }, 'start-up failure');
    log.fatal({ code: err.code }, `lnkitd could not start: ${message}`);
    await node?.stop().catch(() => {});
    await embedded?.stop().catch(() => {});
    releaseDataDir(cfg.dataDir);
    log.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  }
}

await main();
