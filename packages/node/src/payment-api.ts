/**
 * The node's payment calls (node.ts): invoices, pay, keysend and their books, over the
 * manager's payments (a route is one direct channel). Each argument checked here with a
 * NodeError naming it; the manager's refusals (an expired invoice, another network, too much
 * for the channel, no channel to the payee, a payment id used by another payment) keep their
 * words under the node's `invalid-argument`, and nothing is sent.
 */
import { ManagerError, type PaymentOutcome, type PaymentView } from '@lnkit/manager';
import type { NodeContext } from './context.ts';
import { NodeError } from './errors.ts';

export type { PaymentOutcome, PaymentView };

export interface CreatedInvoice {
  bolt11: string;
  paymentHash: string;
  /** Seconds since 1970. */
  expiresAt: number;
}

export interface InvoiceView {
  bolt11: string;
  paymentHash: string;
  /** Null: any amount. */
  amountMsat: bigint | null;
  status: 'unpaid' | 'paid' | 'expired';
  /** Seconds since 1970, or null. */
  paidAt: number | null;
}

const NODE_ID = /^0[23][0-9a-f]{64}$/;
/** BOLT 11's `x` field is a number of seconds; a year is more than any invoice needs. */
const MAX_EXPIRY_SECONDS = 365 * 24 * 3600;
/** BOLT 11: the description is at most 639 bytes (its field's data length is 10 bits of 5-bit groups). */
const MAX_DESCRIPTION_BYTES = 639;

function checkMsat(param: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v <= 0n)
    throw new NodeError('invalid-argument', `${param} must be a positive bigint of msat; got ${String(v)}`);
  return v;
}

export async function createInvoice(
  ctx: NodeContext,
  amountMsat: bigint | null,
  opts: { description?: string; expirySeconds?: number } = {},
): Promise<CreatedInvoice> {
  if (amountMsat !== null) checkMsat('amountMsat', amountMsat);
  const description = opts.description ?? '';
  if (typeof description !== 'string' || Buffer.byteLength(description) > MAX_DESCRIPTION_BYTES)
    throw new NodeError(
      'invalid-argument',
      `description must be text of at most ${MAX_DESCRIPTION_BYTES} bytes`,
    );
  const expirySeconds = opts.expirySeconds ?? 3600;
  if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_EXPIRY_SECONDS)
    throw new NodeError(
      'invalid-argument',
      `expirySeconds must be a whole number of seconds from 1 to ${MAX_EXPIRY_SECONDS}; got ${String(expirySeconds)}`,
    );
  ctx.get('storage').assertAvailable('creating an invoice');
  try {
    return await ctx.get('channelManager').ref.createInvoice(amountMsat, { description, expirySeconds });
  } catch (err) {
    throw nodeErrorOf(err);
  }
}

export async function pay(
  ctx: NodeContext,
  bolt11: string,
  opts: { amountMsat?: bigint; paymentId?: string } = {},
): Promise<PaymentOutcome> {
  if (typeof bolt11 !== 'string' || bolt11.length === 0)
    throw new NodeError('invalid-argument', 'bolt11 must be a BOLT 11 invoice');
  if (opts.amountMsat !== undefined) checkMsat('amountMsat', opts.amountMsat);
  ctx.get('storage').assertAvailable('paying');
  try {
    return await ctx.get('channelManager').ref.sendPayment(bolt11.trim().toLowerCase(), opts);
  } catch (err) {
    throw nodeErrorOf(err);
  }
}

export async function keysend(
  ctx: NodeContext,
  nodeId: string,
  amountMsat: bigint,
  opts: { paymentId?: string } = {},
): Promise<PaymentOutcome> {
  const id = typeof nodeId === 'string' ? nodeId.toLowerCase() : '';
  if (!NODE_ID.test(id))
    throw new NodeError(
      'invalid-argument',
      `nodeId must be a 33-byte compressed public key in hex (66 characters); got ${String(nodeId).slice(0, 80)}`,
    );
  checkMsat('amountMsat', amountMsat);
  ctx.get('storage').assertAvailable('paying');
  try {
    return await ctx.get('channelManager').ref.keysend(id, amountMsat, opts);
  } catch (err) {
    throw nodeErrorOf(err);
  }
}

export async function listPayments(ctx: NodeContext): Promise<PaymentView[]> {
  return ctx.get('channelManager').ref.listPayments();
}

export async function listInvoices(ctx: NodeContext): Promise<InvoiceView[]> {
  const invoices = await ctx.get('channelManager').ref.listInvoices();
  return invoices.map((i) => ({ ...i, status: i.status as InvoiceView['status'] }));
}

function nodeErrorOf(err: unknown): Error {
  if (err instanceof NodeError) return err;
  // By name as well: an error that crossed an actor boundary may be a copy, not an instance.
  if (err instanceof ManagerError || (err instanceof Error && err.name === 'ManagerError'))
    return new NodeError(
      (err as { code?: string }).code === 'closed'
        ? 'not-running'
        : (err as { code?: string }).code === 'no-route'
          ? 'no-route'
          : 'invalid-argument',
      err.message,
    );
  return err instanceof Error ? err : new Error(String(err));
}
