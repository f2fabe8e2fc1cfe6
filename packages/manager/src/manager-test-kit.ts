/**
 * What the ChannelManager tests share: an in-memory PeerLink pair (no sockets) that can drop
 * and come back, a wallet that builds made-up funding transactions, and the options every test
 * manager starts from.
 */
import type { KeysManager } from '@lnkit/keys';
import type { Logger } from '@lnkit/runtime';
import { Transaction } from '@lnkit/tx';
import { type Observable, Subject } from 'rxjs';
import type { ChannelManagerOptions } from './channel-manager.ts';
import { MANAGER_INIT_FEATURES } from './features.ts';
import type { FundingWallet } from './funding-wallet.ts';
import type { MonitorPersister } from './monitor-persister.ts';
import type { PeerLink, PeerLinkEvent, PeerLinkInfo } from './peer-link.ts';
import { fakeFundingTx } from './test-fixtures.ts';

const FEATURES_HEX = Buffer.from(MANAGER_INIT_FEATURES.toBytes()).toString('hex');

/** Two ends of an in-memory connection; each delivers on a later tick, as a socket would. */
export class MemoryLink implements PeerLink {
  readonly messages = new Subject<{ nodeId: string; raw: Uint8Array }>();
  readonly events = new Subject<PeerLinkEvent>();
  other!: MemoryLink;
  connected = true;
  constructor(readonly nodeId: string) {}
  async send(nodeId: string, raw: Uint8Array): Promise<void> {
    if (!this.connected || nodeId !== this.other.nodeId) throw new Error('not-connected');
    this.sentTypes.push(Buffer.from(raw).readUInt16BE(0));
    setImmediate(() => this.other.messages.next({ nodeId: this.nodeId, raw }));
  }
  messages$(): Observable<{ nodeId: string; raw: Uint8Array }> {
    return this.messages.asObservable();
  }
  events$(): Observable<PeerLinkEvent> {
    return this.events.asObservable();
  }
  listPeers(): PeerLinkInfo[] {
    return this.connected ? [{ nodeId: this.other.nodeId, features: { hex: FEATURES_HEX } }] : [];
  }
  /** Message types (BOLT 1 type) this end sent, in order. */
  readonly sentTypes: number[] = [];
  /** Both ends connected again: each hears of the other. */
  connect(): void {
    this.connected = this.other.connected = true;
    this.events.next({ type: 'connected', nodeId: this.other.nodeId, features: { hex: FEATURES_HEX } });
    this.other.events.next({ type: 'connected', nodeId: this.nodeId, features: { hex: FEATURES_HEX } });
  }
  disconnect(): void {
    this.connected = this.other.connected = false;
    this.events.next({ type: 'disconnected', nodeId: this.other.nodeId });
    this.other.events.next({ type: 'disconnected', nodeId: this.nodeId });
  }
}

export class FakeWallet implements FundingWallet<string> {
  released: string[] = [];
  fail = false;
  async fundingTransaction(r: { outputScript: Uint8Array; amountSat: bigint }) {
    if (this.fail) throw new Error('insufficient funds: 0 sat spendable');
    const tx = Transaction.fromBuffer(Buffer.from(fakeFundingTx(r.outputScript, r.amountSat)));
    return { tx, reservation: tx.getId() };
  }
  async release(reservation: string) {
    this.released.push(reservation);
  }
}

/** Two nodes' keys and the two ends of one in-memory connection between them. */
export function linkedPeers(
  newKeys: () => KeysManager,
): [{ keys: KeysManager; link: MemoryLink }, { keys: KeysManager; link: MemoryLink }] {
  const ka = newKeys();
  const kb = newKeys();
  const la = new MemoryLink(Buffer.from(ka.nodeId).toString('hex'));
  const lb = new MemoryLink(Buffer.from(kb.nodeId).toString('hex'));
  la.other = lb;
  lb.other = la;
  return [
    { keys: ka, link: la },
    { keys: kb, link: lb },
  ];
}

/**
 * The options a test manager starts from: a broadcaster that keeps what it is given (in
 * `broadcasts`) and calls each accepted, 253 sat/kW, a FakeWallet, a made-up chain at height 500.
 */
export function testManagerOptions(o: {
  keys: KeysManager;
  link: PeerLink;
  persister: MonitorPersister;
  logger: Logger;
  wallet?: FakeWallet;
}): { options: ChannelManagerOptions; broadcasts: Uint8Array[] } {
  const broadcasts: Uint8Array[] = [];
  const options: ChannelManagerOptions = {
    keys: o.keys,
    peers: o.link,
    persister: o.persister,
    broadcaster: {
      broadcastTransactions: async (txs) => {
        broadcasts.push(...txs);
        return txs.map((t) => ({
          txid: Transaction.fromBuffer(Buffer.from(t)).getId(),
          accepted: true as const,
        }));
      },
    },
    feeEstimator: { feeratePerKw: () => 253n },
    wallet: o.wallet ?? new FakeWallet(),
    chainHash: new Uint8Array(32).fill(6),
    bestHeight: 500,
    logger: o.logger,
  };
  return { options, broadcasts };
}
