/**
 * The forwarding command: forwardinghistory [--since TIME] — the request it sends (the API
 * checks TIME: seconds since 1970 or a date and time) and its answer in words.
 */
type Json = Record<string, unknown>;

export const FORWARD_USAGE = `  forwardinghistory [--since TIME]  the HTLCs this node forwarded: channels, amounts, fee, status
                                   (TIME: seconds since 1970 or a date, 2026-12-01T14:00:00Z)
`;

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
