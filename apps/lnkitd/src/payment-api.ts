/**
 * The payment endpoints: invoice, pay, keysend, listpayments, listinvoices. Amounts are strings
 * of decimal digits both ways; `pay` and `keysend` answer once the payment ended (succeeded with
 * its preimage, the payer's proof, or failed with the reason). An invoice's preimage and secret
 * are never in an answer. The node's refusals keep their words (channel-api.ts's statuses).
 */
import { type ApiErrorOf, refusal } from './channel-api.ts';

type Body = Record<string, unknown>;

export interface PaymentOutcomeView {
  paymentId: string;
  paymentHash: string;
  status: string;
  amountMsat: bigint;
  feeMsat: bigint;
  preimage: string | null;
  reason?: string | undefined;
}

/** What the daemon uses of the node for payments (LnkitNode's payment calls). */
export interface PaymentNode {
  readonly nodeId: string;
  createInvoice(
    amountMsat: bigint | null,
    opts?: { description?: string; expirySeconds?: number },
  ): Promise<{ bolt11: string; paymentHash: string; expiresAt: number }>;
  pay(bolt11: string, opts?: { amountMsat?: bigint; paymentId?: string }): Promise<PaymentOutcomeView>;
  keysend(nodeId: string, amountMsat: bigint): Promise<PaymentOutcomeView>;
  listPayments(): Promise<PaymentOutcomeView[]>;
  listInvoices(): Promise<
    {
      bolt11: string;
      paymentHash: string;
      amountMsat: bigint | null;
      status: string;
      paidAt: number | null;
    }[]
  >;
}

/** BOLT 11's `x`: seconds; a year is more than any invoice needs. */
const MAX_EXPIRY_SECONDS = 365 * 24 * 3600;
const got = (raw: unknown) => JSON.stringify(raw)?.slice(0, 80) ?? String(raw);

/**
 * The caller's id of a payment (optional; the payment hash when absent). The same id answers
 * the first outcome and never pays twice; a new id pays an invoice whose first try failed.
 */
function paymentIdParam(
  body: Record<string, unknown>,
  badParam: (param: string, what: string) => Error,
): string | undefined {
  const v = body.paymentId;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(v))
    throw badParam('paymentId', 'must be 1 to 64 printable characters without spaces');
  return v;
}

/** One payment in the shape: `reason` only when it failed. */
export function paymentJson(p: PaymentOutcomeView): Record<string, unknown> {
  return {
    paymentId: p.paymentId,
    paymentHash: p.paymentHash,
    status: p.status,
    amountMsat: p.amountMsat.toString(),
    feeMsat: p.feeMsat.toString(),
    preimage: p.preimage,
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
  };
}

type Handler = (body: Body) => Promise<unknown>;

export function paymentRoutes(
  node: PaymentNode,
  helpers: {
    apiError: ApiErrorOf;
    badParam: (param: string, what: string) => Error;
    nodeIdParam: (body: Body, param: string) => string;
    msatParam: (body: Body, param: string, opts: { min: bigint; required: boolean }) => bigint | undefined;
  },
): Record<string, Record<string, Handler>> {
  const { apiError, badParam, msatParam } = helpers;
  const refused = (e: unknown) => refusal(e, apiError);
  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw refused(e);
    }
  };
  return {
    '/v1/invoice': {
      POST: async (body) => {
        // 0 or absent: an invoice for any amount (BOLT 11 leaves the amount out).
        const amount = msatParam(body, 'amountMsat', { min: 0n, required: false });
        const description = body.description ?? '';
        if (typeof description !== 'string')
          throw badParam('description', `must be text; got ${got(description)}`);
        const rawExpiry = body.expirySeconds;
        let expirySeconds: number | undefined;
        if (rawExpiry !== undefined && rawExpiry !== null) {
          const n =
            typeof rawExpiry === 'string' && /^[0-9]{1,9}$/.test(rawExpiry) ? Number(rawExpiry) : rawExpiry;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_EXPIRY_SECONDS)
            throw badParam(
              'expirySeconds',
              `must be a whole number of seconds from 1 to ${MAX_EXPIRY_SECONDS}; got ${got(rawExpiry)}`,
            );
          expirySeconds = n;
        }
        const inv = await call(() =>
          node.createInvoice(amount === undefined || amount === 0n ? null : amount, {
            description,
            ...(expirySeconds !== undefined ? { expirySeconds } : {}),
          }),
        );
        return { bolt11: inv.bolt11, paymentHash: inv.paymentHash, expiresAt: inv.expiresAt };
      },
    },
    '/v1/pay': {
      POST: async (body) => {
        const bolt11 = body.bolt11;
        if (typeof bolt11 !== 'string' || bolt11.trim() === '')
          throw badParam('bolt11', 'is required: a BOLT 11 invoice (lnbc…, lntb…, lnbcrt…)');
        const amountMsat = msatParam(body, 'amountMsat', { min: 1n, required: false });
        const paymentId = paymentIdParam(body, badParam);
        const outcome = await call(() =>
          node.pay(bolt11.trim(), {
            ...(amountMsat !== undefined ? { amountMsat } : {}),
            ...(paymentId !== undefined ? { paymentId } : {}),
          }),
        );
        return paymentJson(outcome);
      },
    },
    '/v1/keysend': {
      POST: async (body) => {
        const nodeId = helpers.nodeIdParam(body, 'nodeId');
        if (nodeId === node.nodeId) throw badParam('nodeId', 'is this node itself');
        const amountMsat = msatParam(body, 'amountMsat', { min: 1n, required: true })!;
        return paymentJson(await call(() => node.keysend(nodeId, amountMsat)));
      },
    },
    '/v1/listpayments': {
      GET: async () => ({ payments: (await call(() => node.listPayments())).map(paymentJson) }),
    },
    '/v1/listinvoices': {
      GET: async () => ({
        invoices: (await call(() => node.listInvoices())).map((i) => ({
          bolt11: i.bolt11,
          paymentHash: i.paymentHash,
          amountMsat: i.amountMsat === null ? null : i.amountMsat.toString(),
          status: i.status,
          paidAt: i.paidAt,
        })),
      }),
    },
  };
}
