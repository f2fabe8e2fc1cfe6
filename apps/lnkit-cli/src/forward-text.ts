/**
 * The forwarding commands: setfees CHANNEL_ID|all [--base-msat N] [--ppm N] [--cltv-delta N]
 * [--htlc-min-msat N] [--htlc-max-msat N], and forwardinghistory [--since TIME] — the
 * requests they send (the API checks every value) and their answers in words.
 */
type Json = Record<string, unknown>;

export const FORWARD_USAGE = `  setfees CHANNEL_ID|all [--base-msat N] [--ppm N] [--cltv-delta N] [--htlc-min-msat N] [--htlc-max-msat N]
                                   what this node charges to forward over a channel (all: every
                                   channel, and those opened later); kept across restarts
  forwardinghistory [--since TIME]  the HTLCs this node forwarded: channels, amounts, fee, status
                                   (TIME: seconds since 1970 or a date, 2026-12-01T14:00:00Z)
  intercepted                      the forwards the HTLC interceptor holds (lnkitd --intercept-forwards)
  resolvehtlc ID resume|fail FAILURE|settle PREIMAGE
                                   answer a held forward: forward it, fail it back, or settle it
`;

/** resolvehtlc's arguments as the API's body. */
export function resolveHtlcRequest(rest: readonly string[]): {
  method: 'POST';
  path: string;
  body: Record<string, string>;
} {
  const [id, action, arg] = rest;
  const body: Record<string, string> = { id: id ?? '', action: action ?? '' };
  if (action === 'fail' && arg !== undefined) body.failure = arg;
  if (action === 'settle' && arg !== undefined) body.preimage = arg;
  return { method: 'POST', path: '/v1/resolvehtlc', body };
}

/** The options of setfees and the API's field each is sent as (typed, the API checks them). */
export const SETFEES_OPTIONS = {
  '--base-msat': 'baseMsat',
  '--ppm': 'ppm',
  '--cltv-delta': 'cltvDelta',
  '--htlc-min-msat': 'htlcMinimumMsat',
  '--htlc-max-msat': 'htlcMaximumMsat',
} as const;

export function setFeesRequest(
  channel: string,
  values: Partial<Record<keyof typeof SETFEES_OPTIONS, string>>,
): { method: 'POST'; path: string; body: Json } {
  const body: Json = { channel };
  for (const [option, field] of Object.entries(SETFEES_OPTIONS))
    if (values[option as keyof typeof SETFEES_OPTIONS] !== undefined)
      body[field] = values[option as keyof typeof SETFEES_OPTIONS];
  return { method: 'POST', path: '/v1/setfees', body };
}

export function setFeesText(out: Json): string {
  const which = out.channel === 'all' ? 'every channel' : `channel ${out.channel}`;
  return [
    `${which}: ${out.baseMsat} msat + ${out.ppm} ppm per forward, cltv delta ${out.cltvDelta}`,
    `  HTLCs from ${out.htlcMinimumMsat} to ${out.htlcMaximumMsat} msat${out.enabled === false ? ', disabled' : ''}`,
  ].join('\n');
}

export function forwardRequest(since: string | undefined): { method: 'GET'; path: string } {
  return {
    method: 'GET',
    path: `/v1/forwardinghistory${since !== undefined ? `?since=${encodeURIComponent(since)}` : ''}`,
  };
}

const when = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'not yet';

export function forwardText(out: Json): string {
  const list = (out.forwards as Json[]) ?? [];
  if (!list.length) return 'no forwards';
  const settled = list.filter((f) => f.status === 'settled');
  const earned = settled.reduce((sum, f) => sum + BigInt(String(f.feeMsat)), 0n);
  return [
    ...list.map(
      (f) =>
        `${f.status} ${f.amountInMsat} → ${f.amountOutMsat} msat (fee ${f.feeMsat} msat)${f.failure ? `  failure: ${f.failure}` : ''}  resolved ${when(f.resolvedAt)}\n  in ${f.inChannel}\n  out ${f.outChannel}`,
    ),
    `${list.length} forwards, ${settled.length} settled, ${earned} msat earned`,
  ].join('\n');
}
