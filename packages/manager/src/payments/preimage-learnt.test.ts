/**
 * A payment whose HTLC the payee took on chain (BOLT 5): the ChainMonitor's
 * PaymentPreimageLearnt, given to `preimageLearnt`, ends the pending payment as the off-chain
 * fulfil would — PaymentSent with the preimage, the caller's outcome `succeeded` — and a
 * preimage of another hash changes nothing. (No channel core: the channel is a stub.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import type { ChannelInput, ChannelState } from '../channel-state.ts';
import type { PaymentChannels, PaymentEvent } from './payments.ts';
import { createPayments } from './shell.ts';

const logger = createRootLogger({ level: 'silent' });
/** Regtest's genesis (internal byte order): invoices are lnbcrt. */
const REGTEST = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
).reverse();

function oneChannel(peer: string): PaymentChannels & { commands: ChannelInput[] } {
  const state = { phase: 'ready', link: 'connected', commitments: { toLocalMsat: 900_000_000n } };
  const c = {
    commands: [] as ChannelInput[],
    channelsWith: (nodeId: string) =>
      nodeId === peer ? [{ id: 7, state: state as unknown as ChannelState }] : [],
    channelIdOf: (id: number) => (id === 7 ? 'ab'.repeat(32) : undefined),
    command: async (_id: number, input: ChannelInput) => {
      c.commands.push(input);
      return undefined;
    },
    bestHeight: () => 500,
  };
  return c;
}

test('a preimage learnt on chain ends our pending payment of its hash: PaymentSent, the outcome succeeded', async () => {
  const payer = new KeysManager(randomBytes(32));
  const payee = new KeysManager(randomBytes(32));
  const payeeChannels = oneChannel(Buffer.from(payer.nodeId).toString('hex'));
  const payeePayments = createPayments({ keys: payee, chainHash: REGTEST, channels: payeeChannels, logger });
  const invoice = await payeePayments.createInvoice(5_000_000n, { description: 'taken on chain' });
  const channels = oneChannel(Buffer.from(payee.nodeId).toString('hex'));
  const events: PaymentEvent[] = [];
  const payments = createPayments({ keys: payer, chainHash: REGTEST, channels, logger });
  payments.events$.subscribe((e) => events.push(e));
  const outcome = payments.sendPayment(invoice.bolt11);
  const htlc = await waitFor(
    () =>
      channels.commands.find((i): i is Extract<ChannelInput, { kind: 'add-htlc' }> => i.kind === 'add-htlc'),
    { what: 'the HTLC offered' },
  );
  // The payee's preimage, as its fulfil would carry it.
  payeePayments.onHtlcEvent(7, {
    type: 'htlc-committed',
    id: 0n,
    amountMsat: htlc.amountMsat,
    paymentHash: htlc.paymentHash,
    cltvExpiry: htlc.cltvExpiry,
    onionRoutingPacket: htlc.onionRoutingPacket,
  });
  const fulfil = await waitFor(
    () =>
      payeeChannels.commands.find(
        (i): i is Extract<ChannelInput, { kind: 'fulfill-htlc' }> => i.kind === 'fulfill-htlc',
      ),
    { what: "the payee's fulfil" },
  );

  payments.preimageLearnt(htlc.paymentHash, randomBytes(32));
  assert.deepEqual(
    payments.listPayments().map((p) => p.status),
    ['pending'],
    'a preimage of another hash changes nothing',
  );
  payments.preimageLearnt(htlc.paymentHash, fulfil.paymentPreimage);
  const o = await outcome;
  assert.equal(o.status, 'succeeded');
  assert.equal(o.preimage, Buffer.from(fulfil.paymentPreimage).toString('hex'));
  const sent = events.find((e) => e.type === 'PaymentSent');
  assert.ok(sent?.type === 'PaymentSent');
  assert.equal(sent.paymentHash, invoice.paymentHash);
  assert.deepEqual(
    payments.listPayments().map((p) => p.status),
    ['succeeded'],
  );
  // The same preimage again (the next block's rebroadcast seen, a restart): no second end.
  payments.preimageLearnt(htlc.paymentHash, fulfil.paymentPreimage);
  assert.equal(events.filter((e) => e.type === 'PaymentSent').length, 1);
});
