/**
 * The chain stream as it crosses threads. Structured clone keeps no classes, so a connected
 * block's transactions travel as their serialized bytes and are parsed again on the receiving
 * side, which then feeds ChainListeners from it exactly as from a ChainPoller of its own.
 */
import { Transaction } from 'bitcoinjs-lib';
import { map, type Observable } from 'rxjs';
import type { BlockHeaderData } from './block-source.ts';
import type { ChainEvent } from './poller.ts';

export type ChainStreamEvent =
  | { type: 'blockConnected'; header: BlockHeaderData; height: number; rawTxs: Uint8Array[] }
  | { type: 'blockDisconnected'; header: BlockHeaderData; height: number }
  | { type: 'progress'; height: number; tipHeight: number; synced: boolean };

/** The sending side: ChainEvent to its cloneable form. */
export function toStreamEvent(e: ChainEvent): ChainStreamEvent {
  return e.type === 'blockConnected'
    ? {
        type: e.type,
        header: e.header,
        height: e.height,
        rawTxs: e.txdata.map((tx) => new Uint8Array(tx.toBuffer())),
      }
    : e;
}

/** The receiving side: ChainEvents again, for subscribeListener. */
export function fromStreamEvents(stream$: Observable<ChainStreamEvent>): Observable<ChainEvent> {
  return stream$.pipe(
    map(
      (e): ChainEvent =>
        e.type === 'blockConnected'
          ? {
              type: e.type,
              header: e.header,
              height: e.height,
              txdata: e.rawTxs.map((raw) => Transaction.fromBuffer(Buffer.from(raw))),
            }
          : e,
    ),
  );
}
