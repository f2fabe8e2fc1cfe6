/**
 * Every BOLT 2 refusal of a bad open_channel (we are the fundee) and accept_channel (we are
 * the funder): each starts from a valid message a real core sent, changes one field, and
 * checks the refusal names that field — in the `error` sent to the peer as well — and that
 * no channel is left behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidPublicKey } from '@lnkit/crypto';
import { type AcceptChannel, Features, type OpenChannel } from '@lnkit/wire';
import { channelTypeFeatures } from './channel-type.ts';
import { checkOpenChannel, type PeerFeatures } from './checks.ts';
import { channelConfig } from './config.ts';
import { acceptChannel } from './establish.ts';
import { isValidShutdownScript } from './shutdown-script.ts';
import { ALL_FEATURES, accept, CHAIN_HASH, FEERATES, pair } from './test-fixtures.ts';

/** 0x02 followed by an x with no point on the curve. */
const NOT_A_POINT = (() => {
  for (let x = 1; ; x++) {
    const p = new Uint8Array(33);
    p[0] = 2;
    p[32] = x;
    if (!isValidPublicKey(p)) return p;
  }
})();

const P2WPKH = Uint8Array.from([0x00, 0x14, ...new Uint8Array(20).fill(7)]);
const TAPROOT = Uint8Array.from([0x51, 0x20, ...new Uint8Array(32).fill(7)]);

type OpenCase = [
  string,
  (m: OpenChannel) => OpenChannel,
  string,
  { features?: Partial<PeerFeatures>; anchors?: boolean }?,
];

const openCases: OpenCase[] = [
  ['another chain', (m) => ({ ...m, chainHash: new Uint8Array(32).fill(1) }), 'chain_hash'],
  ['no channel_type', (m) => ({ ...m, channelType: undefined }), 'channel_type'],
  [
    'an unknown channel_type bit',
    (m) => ({ ...m, channelType: Features.fromBits([12, 20]) }),
    'channel_type',
  ],
  ['an odd channel_type bit', (m) => ({ ...m, channelType: Features.fromBits([13]) }), 'channel_type'],
  ['no static_remotekey (legacy)', (m) => ({ ...m, channelType: Features.empty() }), 'channel_type'],
  ['option_zeroconf', (m) => ({ ...m, channelType: Features.fromBits([12, 46, 50]) }), 'channel_type'],
  [
    'option_scid_alias on an announced channel',
    (m) => ({ ...m, channelFlags: 1, channelType: Features.fromBits([12, 46]) }),
    'channel_type',
  ],
  [
    'anchors when this node takes none',
    (m) => ({
      ...m,
      channelType: channelTypeFeatures({ type: 'anchors_zero_fee_htlc_tx', scidAlias: false }),
    }),
    'channel_type',
    { anchors: false },
  ],
  [
    '2^24 sat without option_support_large_channel',
    (m) => ({ ...m, fundingSatoshis: 1n << 24n }),
    'funding_satoshis',
    { features: { largeChannel: false } },
  ],
  ['funding below our minimum', (m) => ({ ...m, fundingSatoshis: 999n }), 'funding_satoshis'],
  ['push_msat above the channel', (m) => ({ ...m, pushMsat: m.fundingSatoshis * 1000n + 1n }), 'push_msat'],
  ['to_self_delay unreasonably large', (m) => ({ ...m, toSelfDelay: 2017 }), 'to_self_delay'],
  ['max_accepted_htlcs above 483', (m) => ({ ...m, maxAcceptedHtlcs: 484 }), 'max_accepted_htlcs'],
  ['max_accepted_htlcs too small', (m) => ({ ...m, maxAcceptedHtlcs: 4 }), 'max_accepted_htlcs'],
  ['feerate_per_kw too small', (m) => ({ ...m, feeratePerKw: 252 }), 'feerate_per_kw'],
  ['feerate_per_kw unreasonably large', (m) => ({ ...m, feeratePerKw: 100_001 }), 'feerate_per_kw'],
  ['funding_pubkey not a point', (m) => ({ ...m, fundingPubkey: NOT_A_POINT }), 'funding_pubkey'],
  [
    'revocation_basepoint not a point',
    (m) => ({ ...m, revocationBasepoint: NOT_A_POINT }),
    'revocation_basepoint',
  ],
  ['payment_basepoint not a point', (m) => ({ ...m, paymentBasepoint: NOT_A_POINT }), 'payment_basepoint'],
  [
    'delayed_payment_basepoint not a point',
    (m) => ({ ...m, delayedPaymentBasepoint: NOT_A_POINT }),
    'delayed_payment_basepoint',
  ],
  ['htlc_basepoint not a point', (m) => ({ ...m, htlcBasepoint: NOT_A_POINT }), 'htlc_basepoint'],
  [
    'first_per_commitment_point not a point',
    (m) => ({ ...m, firstPerCommitmentPoint: NOT_A_POINT }),
    'first_per_commitment_point',
  ],
  ['dust_limit_satoshis below 354', (m) => ({ ...m, dustLimitSatoshis: 353n }), 'dust_limit_satoshis'],
  ['dust_limit_satoshis too large', (m) => ({ ...m, dustLimitSatoshis: 1_001n }), 'dust_limit_satoshis'],
  [
    'dust_limit_satoshis above channel_reserve_satoshis',
    (m) => ({ ...m, dustLimitSatoshis: 900n, channelReserveSatoshis: 899n }),
    'dust_limit_satoshis',
  ],
  [
    'channel_reserve_satoshis too large',
    (m) => ({ ...m, channelReserveSatoshis: 200_001n }),
    'channel_reserve_satoshis',
  ],
  ['htlc_minimum_msat too large', (m) => ({ ...m, htlcMinimumMsat: 10_000_001n }), 'htlc_minimum_msat'],
  [
    'max_htlc_value_in_flight_msat too small',
    (m) => ({ ...m, maxHtlcValueInFlightMsat: 9_999_999n }),
    'max_htlc_value_in_flight_msat',
  ],
  [
    'the funder cannot pay the commitment fee after push_msat',
    (m) => ({ ...m, pushMsat: 999_000_000n }),
    'push_msat',
  ],
  [
    'neither initial balance above channel_reserve_satoshis',
    (m) => ({
      ...m,
      fundingSatoshis: 10_000n,
      channelReserveSatoshis: 2_000n,
      feeratePerKw: 12_000,
      maxHtlcValueInFlightMsat: 10_000_000n,
    }),
    'channel_reserve_satoshis',
  ],
  [
    'an upfront_shutdown_script that is not a shutdown script',
    (m) => ({ ...m, upfrontShutdownScript: Uint8Array.of(0x76, 0xa9, 0x14) }),
    'upfront_shutdown_script',
  ],
  [
    'a taproot upfront_shutdown_script without option_shutdown_anysegwit',
    (m) => ({ ...m, upfrontShutdownScript: TAPROOT }),
    'upfront_shutdown_script',
    { features: { anySegwit: false } },
  ],
  ['option_dual_fund negotiated', (m) => m, 'open_channel', { features: { dualFund: true } }],
];

async function validOpen(): Promise<OpenChannel> {
  const { fundee } = await pair();
  return fundee.inbox[0] as OpenChannel;
}

test('a valid open_channel passes every check (and the variants the checks must let through)', async () => {
  const open = await validOpen();
  const ctx = { chainHash: CHAIN_HASH, config: channelConfig(), features: ALL_FEATURES, feerate: FEERATES };
  for (const m of [
    open,
    { ...open, upfrontShutdownScript: new Uint8Array(0) },
    { ...open, upfrontShutdownScript: P2WPKH },
    { ...open, upfrontShutdownScript: TAPROOT },
    { ...open, channelType: Features.fromBits([12, 46]) },
    { ...open, channelType: channelTypeFeatures({ type: 'anchors_zero_fee_htlc_tx', scidAlias: false }) },
    { ...open, fundingSatoshis: 1n << 24n },
    { ...open, channelFlags: 0xfe }, // BOLT 2: "ignore undefined bits in channel_flags"
  ]) {
    const r = checkOpenChannel(m, ctx);
    assert.ok(r.ok, r.ok ? '' : r.refusal.reason);
  }
});

for (const [what, mutate, field, options] of openCases) {
  test(`open_channel with ${what} is refused, naming ${field}`, async () => {
    const open = mutate(await validOpen());
    const config = channelConfig(options?.anchors === false ? { anchors: false } : {});
    const r = acceptChannel(open, {
      counterpartyNodeId: '02'.padEnd(66, '0'),
      chainHash: CHAIN_HASH,
      keys: {
        channelKeyIndex: 0n,
        pubkeys: {
          fundingPubkey: open.fundingPubkey,
          revocationBasepoint: open.fundingPubkey,
          paymentBasepoint: open.fundingPubkey,
          delayedPaymentBasepoint: open.fundingPubkey,
          htlcBasepoint: open.fundingPubkey,
        },
        perCommitmentPoints: [open.fundingPubkey, open.fundingPubkey],
      },
      config,
      features: { ...ALL_FEATURES, ...options?.features },
      currentHeight: 500,
      localAlias: 1n,
      feerate: FEERATES,
    });
    assert.equal(r.ok, false, 'refused');
    if (r.ok) return;
    assert.equal(r.refusal.field, field, r.refusal.reason);
    const sent = r.effects.find((e) => e.kind === 'send');
    assert.ok(sent?.kind === 'send' && sent.message.kind === 'error', 'an error goes to the peer');
    assert.deepEqual(sent.message.channelId, open.temporaryChannelId);
    const text = new TextDecoder().decode(sent.message.data);
    assert.ok(text.includes(field) || (field === 'open_channel' && /dual_fund/.test(text)), text);
  });
}

type AcceptCase = [string, (m: AcceptChannel) => AcceptChannel, string];

const acceptCases: AcceptCase[] = [
  ['no channel_type', (m) => ({ ...m, channelType: undefined }), 'channel_type'],
  [
    'another channel_type than asked',
    (m) => ({
      ...m,
      channelType: channelTypeFeatures({ type: 'anchors_zero_fee_htlc_tx', scidAlias: false }),
    }),
    'channel_type',
  ],
  [
    'option_scid_alias added to the channel_type',
    (m) => ({ ...m, channelType: Features.fromBits([12, 46]) }),
    'channel_type',
  ],
  ['minimum_depth unreasonably large', (m) => ({ ...m, minimumDepth: 145 }), 'minimum_depth'],
  [
    'channel_reserve_satoshis below our dust_limit_satoshis',
    (m) => ({ ...m, channelReserveSatoshis: 545n, dustLimitSatoshis: 354n }),
    'channel_reserve_satoshis',
  ],
  [
    'dust_limit_satoshis above the reserve we asked',
    (m) => ({ ...m, dustLimitSatoshis: 10_001n, channelReserveSatoshis: 20_000n }),
    'dust_limit_satoshis',
  ],
  ['dust_limit_satoshis below 354', (m) => ({ ...m, dustLimitSatoshis: 353n }), 'dust_limit_satoshis'],
  ['dust_limit_satoshis too large', (m) => ({ ...m, dustLimitSatoshis: 1_001n }), 'dust_limit_satoshis'],
  ['to_self_delay unreasonably large', (m) => ({ ...m, toSelfDelay: 5000 }), 'to_self_delay'],
  ['max_accepted_htlcs above 483', (m) => ({ ...m, maxAcceptedHtlcs: 500 }), 'max_accepted_htlcs'],
  ['max_accepted_htlcs too small', (m) => ({ ...m, maxAcceptedHtlcs: 0 }), 'max_accepted_htlcs'],
  ['funding_pubkey not a point', (m) => ({ ...m, fundingPubkey: NOT_A_POINT }), 'funding_pubkey'],
  ['htlc_basepoint not a point', (m) => ({ ...m, htlcBasepoint: NOT_A_POINT }), 'htlc_basepoint'],
  [
    'first_per_commitment_point not a point',
    (m) => ({ ...m, firstPerCommitmentPoint: NOT_A_POINT }),
    'first_per_commitment_point',
  ],
  [
    'channel_reserve_satoshis too large',
    (m) => ({ ...m, channelReserveSatoshis: 300_000n }),
    'channel_reserve_satoshis',
  ],
  ['htlc_minimum_msat too large', (m) => ({ ...m, htlcMinimumMsat: 20_000_000n }), 'htlc_minimum_msat'],
  [
    'max_htlc_value_in_flight_msat too small',
    (m) => ({ ...m, maxHtlcValueInFlightMsat: 1_000n }),
    'max_htlc_value_in_flight_msat',
  ],
  [
    'an upfront_shutdown_script that is not a shutdown script',
    (m) => ({ ...m, upfrontShutdownScript: Uint8Array.of(0x6a) }),
    'upfront_shutdown_script',
  ],
];

for (const [what, mutate, field] of acceptCases) {
  test(`accept_channel with ${what} is refused, naming ${field}`, async () => {
    const { funder, fundee } = await pair();
    await accept(fundee);
    const good = funder.inbox.shift() as AcceptChannel;
    assert.equal(good.kind, 'accept_channel');
    await funder.input({ kind: 'message', message: mutate(good) });
    assert.equal(funder.state?.phase, 'closed');
    const closure = funder.state?.closure;
    assert.ok(closure?.kind === 'protocol-violation');
    assert.equal(closure.field, field, closure.message);
    assert.equal(
      funder.effects.some((e) => e.kind === 'request-funding'),
      false,
      'the wallet is never asked',
    );
    const error = funder.sent.at(-1);
    assert.ok(error?.kind === 'error');
    assert.match(new TextDecoder().decode(error.data), new RegExp(field));
  });
}

test('accept_channel echoes the channel_type exactly as open_channel sent it', async () => {
  for (const t of [
    { type: 'static_remotekey', scidAlias: false },
    { type: 'anchors_zero_fee_htlc_tx', scidAlias: false },
    { type: 'static_remotekey', scidAlias: true },
  ] as const) {
    const { funder, fundee } = await pair({ type: t });
    await accept(fundee);
    const a = funder.inbox[0] as AcceptChannel;
    assert.ok(a.channelType?.equals(channelTypeFeatures(t)));
    await funder.input({ kind: 'message', message: funder.inbox.shift() as AcceptChannel });
    assert.equal(funder.state?.phase, 'awaiting-funding-signed', 'accepted, funded, funding_created sent');
  }
});

test('accept_channel keeps our dust limit at or below their reserve, and our reserve above both dust limits', async () => {
  const { fundee } = await pair();
  const open = fundee.inbox[0] as OpenChannel;
  fundee.inbox[0] = { ...open, dustLimitSatoshis: 400n, channelReserveSatoshis: 500n };
  await accept(fundee);
  const a = fundee.sent[0] as AcceptChannel;
  assert.equal(a.dustLimitSatoshis, 500n, 'lowered from 546 to their reserve');
  assert.ok(a.channelReserveSatoshis >= 546n && a.channelReserveSatoshis >= 400n);
  assert.equal(a.minimumDepth, 3);
});

test('shutdown scripts: the forms BOLT 2 allows, and only those', () => {
  const none = { anySegwit: false, simpleClose: false };
  const all = { anySegwit: true, simpleClose: true };
  assert.ok(isValidShutdownScript(P2WPKH, none));
  assert.ok(isValidShutdownScript(Uint8Array.from([0x00, 0x20, ...new Uint8Array(32)]), none));
  assert.ok(!isValidShutdownScript(Uint8Array.from([0x00, 0x14, ...new Uint8Array(19)]), none));
  assert.ok(!isValidShutdownScript(TAPROOT, none));
  assert.ok(isValidShutdownScript(TAPROOT, all));
  assert.ok(isValidShutdownScript(Uint8Array.from([0x60, 0x02, 1, 2]), all));
  assert.ok(!isValidShutdownScript(Uint8Array.from([0x51, 0x29, ...new Uint8Array(41)]), all));
  assert.ok(isValidShutdownScript(Uint8Array.from([0x6a, 0x06, ...new Uint8Array(6)]), all));
  assert.ok(!isValidShutdownScript(Uint8Array.from([0x6a, 0x06, ...new Uint8Array(6)]), none));
  assert.ok(isValidShutdownScript(Uint8Array.from([0x6a, 0x4c, 80, ...new Uint8Array(80)]), all));
  assert.ok(!isValidShutdownScript(Uint8Array.from([0x6a, 0x4c, 75, ...new Uint8Array(75)]), all));
  assert.ok(!isValidShutdownScript(new Uint8Array(0), all));
});
