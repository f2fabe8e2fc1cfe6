/**
 * The payment commands: invoice, pay, keysend, listpayments, listinvoices — the request each
 * sends (arguments as typed: the API checks them and names the one that is wrong) and its
 * answer in words. `--json` prints the API's answer as it is.
 */
type Json = Record<string, unknown>;

export const PAYMENT_USAGE = `  invoice MSAT [--description TEXT] [--expiry SECONDS]
                                   a BOLT 11 invoice of this node (MSAT 0: any amount)
  pay BOLT11 [--amount-msat N] [--payment-id ID]
                                   pay an invoice over a direct channel; waits for the outcome
                                   (the same ID never pays twice; a new one retries a failed invoice)
  keysend NODEID MSAT              a spontaneous payment to a channel peer; waits for the outcome
  listpayments                     this node's payments: status, amount, fee, preimage
  listinvoices                     this node's invoices: unpaid, paid (when) or expired
`;

export const PAYMENT_COMMANDS = ['invoice', 'pay', 'keysend', 'listpayments', 'listinvoices'] as const;

/** The request of a payment command, or undefined if it is not one; `usage` for a wrong count. */
export function paymentRequest(
  command: string,
  rest: string[],
  values: {
    description?: string | undefined;
    expiry?: string | undefined;
    amountMsat?: string | undefined;
    paymentId?: string | undefined;
  },
  need: (rest: string[], count: number, what: string) => void,
): { method: 'GET' | 'POST'; path: string; body?: unknown } | undefined {
  switch (command) {
    case 'invoice':
      need(rest, 1, 'one argument: MSAT (and --description TEXT, --expiry SECONDS)');
      return {
        method: 'POST',
        path: '/v1/invoice',
        body: {
          amountMsat: rest[0],
          ...(values.description !== undefined ? { description: values.description } : {}),
          ...(values.expiry !== undefined ? { expirySeconds: values.expiry } : {}),
        },
      };
    case 'pay':
      need(rest, 1, 'one argument: BOLT11 (and --amount-msat N, --payment-id ID)');
      return {
        method: 'POST',
        path: '/v1/pay',
        body: {
          bolt11: rest[0],
          ...(values.amountMsat !== undefined ? { amountMsat: values.amountMsat } : {}),
          ...(values.paymentId !== undefined ? { paymentId: values.paymentId } : {}),
        },
      };
    case 'keysend':
      need(rest, 2, 'two arguments: NODEID MSAT');
      return { method: 'POST', path: '/v1/keysend', body: { nodeId: rest[0], amountMsat: rest[1] } };
    case 'listpayments':
      need(rest, 0, 'no arguments');
      return { method: 'GET', path: '/v1/listpayments' };
    case 'listinvoices':
      need(rest, 0, 'no arguments');
      return { method: 'GET', path: '/v1/listinvoices' };
    default:
      return undefined;
  }
}

function paymentLine(p: Json): string {
  const head = `${p.status} ${p.amountMsat} msat (fee ${p.feeMsat} msat)  id ${p.paymentId}`;
  const tail =
    p.status === 'succeeded'
      ? `  preimage ${p.preimage}`
      : p.status === 'failed'
        ? `  reason: ${p.reason ?? 'unknown'}`
        : '';
  return `${head}\n  hash ${p.paymentHash}${tail}`;
}

const when = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : '';

/** The answer of a payment command in words, or undefined if `command` is not one. */
export function paymentText(command: string, out: Json): string | undefined {
  switch (command) {
    case 'invoice':
      return `${out.bolt11}\npayment hash ${out.paymentHash}, expires ${when(out.expiresAt)}`;
    case 'pay':
    case 'keysend':
      return paymentLine(out);
    case 'listpayments': {
      const list = (out.payments as Json[]) ?? [];
      return list.length ? list.map(paymentLine).join('\n') : 'no payments';
    }
    case 'listinvoices': {
      const list = (out.invoices as Json[]) ?? [];
      if (!list.length) return 'no invoices';
      return list
        .map(
          (i) =>
            `${i.status} ${i.amountMsat === null ? 'any amount' : `${i.amountMsat} msat`}${i.paidAt ? ` paid ${when(i.paidAt)}` : ''}  hash ${i.paymentHash}\n  ${i.bolt11}`,
        )
        .join('\n');
    }
    default:
      return undefined;
  }
}
