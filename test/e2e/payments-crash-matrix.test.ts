/**
 * End to end, the crash matrix (issue 15): one payment, A pays B's invoice over their channel,
 * and the node SIGKILLs itself at one exact step of it — after each message it sends or
 * receives (before and after its channel handled it), each monitor persist, each channel
 * snapshot write, each write to the payments' books — on the payer's side (A) and on the
 * payee's (B). The hook is @lnkit/manager's crash-point.ts (LNKIT_CRASH_AT=<point>:<n>).
 *
 * The steps are not written down here: they are found. The victim is started once with
 * LNKIT_CRASH_TRACE=1 and makes one payment; every point its trace shows after the payment
 * began, with its count since the start, is one cell of its side. Each cell then:
 * 1. the victim restarted with LNKIT_CRASH_AT at that point, the channel reestablished;
 * 2. a fresh invoice of B paid by A; the victim dies of the SIGKILL at that point (its stderr
 *    says so, and it ended by SIGKILL);
 * 3. restarted from its data dir, the channel reestablished: the payment ends exactly once —
 *    A's books say succeeded or failed, once; a failed one paid again succeeds, once; B's invoice
 *    is paid iff A's books say succeeded; both sides' balances are exact to the msat and equal to
 *    the books (A's start less its succeeded payments).
 * The matrix (point × side → outcome) is printed.
 *
 * The two sides run at once, each on a pair of nodes of its own. In the suite, each kind of step
 * once (its first time, but for `handled:`: about 9 a side); every step (about 43 a side, 15-20 minutes here):
 *   CRASH_MATRIX_FULL=1 node --import tsx --test --test-timeout=7200000 test/e2e/payments-crash-matrix.test.ts
 * `CRASH_MATRIX_SIDES=a` or `=b` runs one side; `CRASH_MATRIX_ONLY=<point>:<n>` one cell.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import type { Daemon } from './daemon.ts';
import {
  api,
  type ChannelJson,
  fundA,
  openReadyChannel,
  type PaymentJson as Payment,
  startTwoNodes,
} from './two-nodes.ts';

interface Invoice {
  bolt11: string;
  paymentHash: string;
  amountMsat: string | null;
  status: string;
}
type Side = 'a' | 'b';
interface Cell {
  point: string;
  n: number;
}

const CHANNEL_SAT = 1_000_000n;
const PUSH_MSAT = 300_000_000n;
const AMOUNT_MSAT = 1_234_567n;
const SIDES = (process.env.CRASH_MATRIX_SIDES ?? 'ab').split('') as Side[];
const ONLY = process.env.CRASH_MATRIX_ONLY;
/**
 * Every step (about 43 a side, some 20 s each on a loaded 2-core machine: past the suite's 10
 * minutes a file), or — the default, for the suite — each kind of step once, at its first time,
 * but for the `handled:` ones (about 9 a side).
 */
const FULL = process.env.CRASH_MATRIX_FULL === '1';

const matrix: { side: Side; cell: Cell; outcome: string }[] = [];
const ARMED = { LNKIT_CRASH_TRACE: '1', LNKIT_CRASH_FROM: 'SIGUSR2' };

/** One side's matrix on a channel of its own (two lnkitd on a chain of their own). */
async function runSide(side: Side): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `lnkit-e2e-crash-matrix-${side}-`));
  const n = await startTwoNodes(root).catch((e: unknown) => {
    rmSync(root, { recursive: true, force: true });
    throw e;
  });
  let invoiceCount = 0;
  try {
    await fundA(n);
    const channelId = await openReadyChannel(n, CHANNEL_SAT, PUSH_MSAT);
    const books = async (d: Daemon) =>
      (await api<{ payments: Payment[] }>(d, 'GET', '/v1/listpayments')).json.payments;
    const invoicesOf = async (d: Daemon) =>
      (await api<{ invoices: Invoice[] }>(d, 'GET', '/v1/listinvoices')).json.invoices;
    const channelOf = async (d: Daemon) =>
      (await api<{ channels: ChannelJson[] }>(d, 'GET', '/v1/listchannels')).json.channels.find(
        (c) => c.channelId === channelId,
      );

    /**
     * The victim (started with LNKIT_CRASH_TRACE) handled its peer's channel_reestablish since it
     * started, and each side lists the other as connected: an HTLC offered now goes (at worst it
     * waits in the channel's outbox for the peer's side of the reestablish).
     */
    async function reestablished(victim: Daemon, what: string): Promise<void> {
      // Connected both ways; B dials A at once rather than after its reconnect backoff.
      const connected = async (d: Daemon, other: string) =>
        (await api<{ peers: { nodeId: string }[] }>(d, 'GET', '/v1/listpeers')).json.peers.some(
          (p) => p.nodeId === other,
        );
      await waitFor(
        async () => {
          if ((await connected(n.a, n.ib.nodeId)) && (await connected(n.b, n.ia.nodeId))) return true;
          await api(n.b, 'POST', '/v1/connect', { peer: `${n.ia.nodeId}@127.0.0.1:${n.ia.listening.port}` });
          return undefined;
        },
        { what: `the peers connected ${what}`, intervalMs: 200, timeoutMs: 300_000 },
      );
      await waitFor(
        () => victim.output.includes('lnkit-crash-point handled:channel_reestablish 1\n') || undefined,
        {
          what: `the channel reestablished ${what}`,
          intervalMs: 50,
          timeoutMs: 300_000,
        },
      );
    }

    /** Starts `d` with `env` added to its environment (spawn copies it at once). */
    async function startWith(d: Daemon, env: Record<string, string>): Promise<void> {
      const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
      Object.assign(process.env, env);
      const started = d.start();
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await started;
    }

    /** A fresh invoice of B. */
    async function newInvoice(): Promise<Invoice> {
      return (
        await api<Invoice>(n.b, 'POST', '/v1/invoice', {
          amountMsat: String(AMOUNT_MSAT),
          description: `crash matrix ${invoiceCount++}`,
        })
      ).json;
    }

    /** `invoice` paid by A through the API; resolves with the API's answer, or `cut` if A died. */
    function pay(invoice: Invoice): { invoice: Invoice; answer: Promise<Payment | 'cut'> } {
      // Refused with nothing sent while the peer is not back yet: asked again.
      const answer = waitFor(
        async (): Promise<{ done: Payment | 'cut' | { refused: string } } | undefined> => {
          let r: { status: number; json: Payment & { error?: { message: string } } };
          try {
            r = await api(n.a, 'POST', '/v1/pay', { bolt11: invoice.bolt11 });
          } catch {
            return { done: 'cut' };
          }
          if (r.status === 200) return { done: r.json };
          const message = r.json.error?.message ?? '';
          if (/not connected|no ready channel|cannot send this payment: the peer/.test(message))
            return undefined;
          return { done: { refused: `pay refused (${r.status}): ${message}` } };
        },
        { what: 'the payment answered', intervalMs: 100, timeoutMs: 600_000 },
      ).then(({ done }) => {
        if (typeof done === 'object' && 'refused' in done) throw new Error(done.refused);
        return done;
      });
      answer.catch(() => {});
      return { invoice, answer };
    }

    /** Resolves once `d`'s process has exited, with its signal. */
    function exited(d: Daemon): Promise<NodeJS.Signals | null> {
      const proc = d.proc!;
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.signalCode);
      return new Promise((r) => proc.once('exit', (_code, signal) => r(signal)));
    }

    const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);

    /** Balances exact on both sides and equal to A's books (only A pays here). */
    async function balancesMatchBooks(what: string): Promise<void> {
      const paid = sum(
        (await books(n.a)).filter((p) => p.status === 'succeeded').map((p) => BigInt(p.amountMsat)),
      );
      const aMsat = CHANNEL_SAT * 1000n - PUSH_MSAT - paid;
      const bMsat = CHANNEL_SAT * 1000n - aMsat;
      let last: unknown[] = [];
      await waitFor(
        async () => {
          const [ca, cb] = [await channelOf(n.a), await channelOf(n.b)];
          last = [ca, cb];
          return (
            (ca?.localBalanceMsat === String(aMsat) &&
              ca.remoteBalanceMsat === String(bMsat) &&
              cb?.localBalanceMsat === String(bMsat) &&
              cb.remoteBalanceMsat === String(aMsat)) ||
            undefined
          );
        },
        { what: `balances ${what}`, intervalMs: 50, timeoutMs: 120_000 },
      ).catch((e: Error) => {
        throw new Error(`${e.message}: want A ${aMsat} B ${bMsat}, have ${JSON.stringify(last)}`);
      });
      // B's paid invoices are exactly A's succeeded payments.
      const succeeded = new Set(
        (await books(n.a)).filter((p) => p.status === 'succeeded').map((p) => p.paymentHash),
      );
      const paidInvoices = (await invoicesOf(n.b))
        .filter((i) => i.status === 'paid')
        .map((i) => i.paymentHash);
      assert.deepEqual(paidInvoices.sort(), [...succeeded].sort(), `B's paid invoices ${what}`);
    }

    /** The points the victim's trace shows from `offset` of its output, with their counts since its start. */
    function tracedFrom(output: string): Cell[] {
      const cells: Cell[] = [];
      for (const m of output.matchAll(/^lnkit-crash-point (\S+) (\d+)$/gm))
        cells.push({ point: m[1]!, n: Number(m[2]) });
      return cells;
    }

    /** 'alive' once the payment answered, the balances settled and `d` reached no step for 3 s. */
    /** 'alive' once `d` reached no step for 3 s (its logs may go on). */
    function quiet(d: Daemon): Promise<'alive'> {
      const lastStep = () => d.output.lastIndexOf('lnkit-crash-point ');
      let seen = lastStep();
      let quietSince = Date.now();
      return waitFor(
        () => {
          if (lastStep() !== seen) [seen, quietSince] = [lastStep(), Date.now()];
          return Date.now() - quietSince > 3_000 ? ('alive' as const) : undefined;
        },
        { what: 'the victim quiet', intervalMs: 100, timeoutMs: 120_000 },
      );
    }

    /** 'alive' once the payment answered, the balances settled and `d` is quiet. */
    async function quietAfter(answer: Promise<Payment | 'cut'>, d: Daemon): Promise<'alive'> {
      if ((await answer) === 'cut') return new Promise(() => {}); // A died: its exit answers
      await balancesMatchBooks('with the crash point armed');
      return quiet(d);
    }

    /**
     * `alive`, unless the victim died while it was being asked (its API call cut: the crash came
     * in the middle of a check): then only its exit answers. A failed check of a live victim is
     * the test's failure.
     */
    function untilCut(alive: Promise<'alive'>, d: Daemon): Promise<'alive'> {
      return alive.catch(async (err: unknown) => {
        const dead = await waitFor(
          () => d.proc?.exitCode !== null || d.proc?.signalCode !== null || undefined,
          {
            what: 'the victim exited',
            timeoutMs: 15_000,
          },
        ).catch(() => false);
        if (!dead) throw err;
        return new Promise<'alive'>(() => {}); // its exit answers the race
      });
    }

    /** Starts `d`'s count of steps (SIGUSR2); resolves with where its trace of them begins in its output. */
    async function startCount(d: Daemon): Promise<number> {
      const mark = d.output.length;
      d.proc!.kill('SIGUSR2');
      const line = 'lnkit-crash-point counting\n';
      await waitFor(() => d.output.indexOf(line, mark) >= 0 || undefined, {
        what: 'the count started',
        timeoutMs: 60_000,
      });
      return d.output.indexOf(line, mark) + line.length;
    }

    /** A cell's payment, to be checked once the victim is back. */
    interface Cut {
      spec: string;
      invoice: Invoice;
      answer: Promise<Payment | 'cut'>;
      before: Set<string>;
    }

    /** The payment of a crashed cell ends exactly once, the books and balances agree; its outcome in words. */
    async function endsOnce({ spec, invoice, answer, before }: Cut): Promise<string> {
      const first = await answer;
      const mine = await waitFor(
        async () => {
          const ps = (await books(n.a)).filter((p) => !before.has(p.paymentId));
          return ps.every((p) => p.status !== 'pending') ? ps : undefined;
        },
        { what: `${spec}: A's payment ended`, timeoutMs: 180_000 },
      );
      assert.equal(mine.length, 1, `${spec}: one payment in A's books: ${JSON.stringify(mine)}`);
      const ended = mine[0]!;
      assert.equal(ended.paymentHash, invoice.paymentHash);
      if (first !== 'cut') assert.equal(first.status, ended.status, `${spec}: the answer is the books'`);
      await balancesMatchBooks(`after ${spec}`);
      // Asked again: the stored outcome, never a second HTLC (the payment id is the payment hash).
      const again = await api<Payment>(n.a, 'POST', '/v1/pay', { bolt11: invoice.bolt11 });
      assert.equal(again.status, 200, `${spec}: asked again: ${JSON.stringify(again.json)}`);
      assert.equal(again.json.status, ended.status, `${spec}: asked again: ${JSON.stringify(again.json)}`);
      await balancesMatchBooks(`after ${spec}, asked again`);
      const invoiceNow = (await invoicesOf(n.b)).find((i) => i.paymentHash === invoice.paymentHash);
      assert.equal(
        invoiceNow?.status,
        ended.status === 'succeeded' ? 'paid' : 'unpaid',
        `${spec}: B's invoice`,
      );
      return ended.status === 'succeeded' ? 'succeeded' : `failed (${ended.reason ?? 'no reason'})`;
    }
    const victim = side === 'a' ? n.a : n.b;
    const S = side.toUpperCase();
    let t = Date.now();
    // The steps of one payment, as the victim's trace shows them from the start of its count.
    await victim.kill('SIGKILL');
    await startWith(victim, ARMED);
    await reestablished(victim, 'after the tracing start');
    // The invoice is made before the count starts: its write is not a step of the payment.
    const tracedInvoice = await newInvoice();
    await quiet(victim);
    const from = await startCount(victim);
    const { answer: traced } = pay(tracedInvoice);
    assert.equal((await traced) === 'cut' ? 'cut' : 'answered', 'answered');
    await quietAfter(traced, victim);
    let cells = tracedFrom(victim.output.slice(from));
    const all = cells.length;
    if (ONLY) cells = cells.filter((c) => `${c.point}:${c.n}` === ONLY);
    else if (!FULL) cells = cells.filter((c) => c.n === 1 && !c.point.startsWith('handled:'));
    console.log(
      `# ${S}: ${all} steps traced in ${Date.now() - t} ms, ${cells.length} crashed at: ${cells.map((c) => `${c.point}:${c.n}`).join(' ')}`,
    );
    assert.ok(cells.length > 0, 'the trace shows the steps');

    // Each restart is armed for the next step; the checks of the last cell run before its count starts.
    const specOf = (c: Cell | undefined) => (c ? { ...ARMED, LNKIT_CRASH_AT: `${c.point}:${c.n}` } : ARMED);
    await victim.kill('SIGKILL');
    await startWith(victim, specOf(cells[0]));
    let last: { cut: Cut; cell: Cell; t: number } | undefined;
    const settle = async () => {
      if (!last) return;
      const outcome = await endsOnce(last.cut);
      matrix.push({ side, cell: last.cell, outcome });
      console.log(`# ${S} ${last.cut.spec}: ${outcome} (${Date.now() - last.t} ms)`);
      last = undefined;
    };
    for (const [i, cell] of cells.entries()) {
      const spec = `${cell.point}:${cell.n}`;
      await reestablished(victim, `before ${spec}`);
      await settle();
      t = Date.now();
      const before = new Set((await books(n.a)).map((p) => p.paymentId));
      const fresh = await newInvoice();
      // The last cell's tail (a revoke_and_ack still on its way) done: the count is this payment's alone.
      await quiet(victim);
      await startCount(victim);
      const { invoice, answer } = pay(fresh);
      // Dead of the crash, or alive with the payment over and the victim quiet: this time the flow
      // took another path and the step did not come at this count.
      const signal = await Promise.race([exited(victim), untilCut(quietAfter(answer, victim), victim)]);
      if (signal === 'alive') {
        matrix.push({ side, cell, outcome: 'not reached' });
        console.log(`# ${S} ${spec}: not reached`);
        await victim.kill('SIGKILL');
        await startWith(victim, specOf(cells[i + 1]));
        continue;
      }
      assert.equal(signal, 'SIGKILL', `${spec}: the victim died of SIGKILL`);
      await waitFor(() => victim.output.includes(`lnkit-crash-point: SIGKILL at ${spec}\n`) || undefined, {
        what: `${spec}: the victim said where it crashed`,
        timeoutMs: 10_000,
      });
      last = { cut: { spec, invoice, answer, before }, cell, t };
      await startWith(victim, specOf(cells[i + 1]));
    }
    await reestablished(victim, 'after the last step');
    await settle();
  } finally {
    await n.b.kill('SIGKILL');
    await n.a.kill('SIGKILL');
    // CRASH_MATRIX_KEEP=1: the data dirs (and lnkitd.log) stay, to look at a failed cell.
    if (process.env.CRASH_MATRIX_KEEP === '1') console.log(`# ${side.toUpperCase()}: kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

// The two sides at once, each on its own pair of nodes: the matrix takes the time of one.
describe('crash matrix', { concurrency: true }, () => {
  for (const side of SIDES)
    test(
      `${side === 'a' ? 'payer A' : 'payee B'}: SIGKILL at each step of a payment, restart, the payment ends exactly once and the balances are exact`,
      { timeout: 7_200_000 },
      () => runSide(side),
    );
});

test('the matrix', () => {
  console.log('# crash matrix: side  point:n  → outcome');
  for (const { side, cell, outcome } of matrix)
    console.log(`#   ${side === 'a' ? 'payer A' : 'payee B'}  ${cell.point}:${cell.n}  → ${outcome}`);
  assert.ok(matrix.length > 0);
});
