// Extracts the test vectors of BOLT 3's appendices into JSON fixtures, once, so that lnkit
// tests without the BOLT checkout. Run from /work/main:
//   node packages/tx/scripts/extract-bolt3-vectors.mjs /work/shared/bolts/03-transactions.md
// The values are copied verbatim from the BOLT text; nothing here computes an expected value.
import { readFileSync, writeFileSync } from 'node:fs';

const path = process.argv[2] ?? '/work/shared/bolts/03-transactions.md';
const text = readFileSync(path, 'utf8');
const lines = text.split('\n');
const SOURCE = 'lightning/bolts 03-transactions.md at commit a3772650d8ebc06acf457fcadf97968ebfc4dfff';

function section(start, end) {
  const a = lines.findIndex((l) => l.startsWith(start));
  const b = lines.findIndex((l, i) => i > a && l.startsWith(end));
  if (a < 0 || b < 0) throw new Error(`section ${start} not found`);
  return lines.slice(a, b);
}
const strip0x = (h) => h.replace(/^0x/, '').toLowerCase();
// BOLT 3 prints private keys "as 32 bytes plus a trailing 1" (compressed-key convention).
const privkey = (h) => {
  const s = strip0x(h);
  if (s.length !== 66 || !s.endsWith('01')) throw new Error(`unexpected private key ${s}`);
  return s.slice(0, 64);
};
const kv = (line) => {
  const m = /^\s*(#\s*)?([A-Za-z_ #()0-9-]+?)\s*[:=]\s*(.*)$/.exec(line);
  return m ? { comment: !!m[1], key: m[2].trim(), value: m[3].trim() } : null;
};

// ---- Appendix B: funding transaction
{
  const sec = section('# Appendix B', '# Appendix C');
  const get = (key) => {
    for (const l of sec) {
      const p = kv(l);
      if (p && !p.comment && p.key === key) return p.value;
    }
    throw new Error(`missing ${key}`);
  };
  const out = {
    source: `${SOURCE}, Appendix B: Funding Transaction Test Vectors`,
    block1CoinbaseTx: get('Block 1 coinbase transaction'),
    block1CoinbasePrivkey: privkey(get('Block 1 coinbase privkey')),
    localFundingPubkey: get('local_funding_pubkey'),
    remoteFundingPubkey: get('remote_funding_pubkey'),
    fundingWitnessScript: sec.map(kv).find((p) => p && p.key === 'funding witness script').value,
    inputTxid: get('input txid'),
    inputIndex: Number(get('input index')),
    inputSatoshis: Number(get('input satoshis')),
    fundingSatoshis: Number(get('funding satoshis')),
    feeratePerKw: Number(sec.map(kv).find((p) => p && p.key === 'feerate_per_kw').value),
    changeSatoshis: Number(get('change satoshis')),
    fundingOutput: Number(get('funding output')),
    fundingTx: get('funding tx'),
    fundingTxid: sec.map(kv).find((p) => p && p.key === 'txid').value,
  };
  writeFileSync('packages/tx/src/fixtures/bolt03-funding.json', `${JSON.stringify(out, null, 2)}\n`);
}

// ---- Appendix C: commitment and HTLC transactions (static_remotekey)
{
  const sec = section('# Appendix C', '# Appendix D');
  const common = {};
  const htlcs = [];
  const vectors = [];
  let current = null;
  let pendingHtlc = null;
  for (const line of sec) {
    const htlcDesc = /^\s*# signature for output #(\d+) \(htlc-(success|timeout) for htlc #(\d+)\)/.exec(
      line,
    );
    if (htlcDesc) {
      pendingHtlc = { outputIndex: Number(htlcDesc[1]), kind: htlcDesc[2], htlcIndex: Number(htlcDesc[3]) };
      current.htlcTxs.push(pendingHtlc);
      continue;
    }
    const p = kv(line);
    if (!p) continue;
    const h = /^htlc (\d+) (direction|amount_msat|expiry|payment_preimage)$/.exec(p.key);
    if (h && !p.comment) {
      const i = Number(h[1]);
      htlcs[i] ??= { index: i };
      if (h[2] === 'direction') htlcs[i].direction = p.value;
      if (h[2] === 'amount_msat') htlcs[i].amountMsat = Number(p.value);
      if (h[2] === 'expiry') htlcs[i].cltvExpiry = Number(p.value);
      if (h[2] === 'payment_preimage') htlcs[i].paymentPreimage = p.value;
      continue;
    }
    if (p.key === 'name' && !p.comment) {
      current = { name: p.value, htlcTxs: [] };
      vectors.push(current);
      pendingHtlc = null;
      continue;
    }
    if (current === null) {
      if (p.key.startsWith('INTERNAL')) {
        const m = /^INTERNAL: (\w+): (\w+)/.exec(line.trim());
        if (m) common[m[1]] = m[1].endsWith('privkey') || m[1].endsWith('secret') ? privkey(m[2]) : m[2];
      } else if (p.value !== '' && (!p.comment || p.key === 'obscured commitment number')) {
        common[p.key] = p.key.endsWith('privkey') || p.key.endsWith('_secret') ? privkey(p.value) : p.value;
      }
      continue;
    }
    if (pendingHtlc) {
      if (p.key === 'remote_htlc_signature') pendingHtlc.remoteSignature = p.value;
      else if (p.key === 'local_htlc_signature') pendingHtlc.localSignature = p.value;
      else if (/^htlc_(success|timeout)_tx \(htlc #\d+\)$/.test(p.key)) pendingHtlc.tx = p.value;
      continue;
    }
    switch (p.key) {
      case 'to_local_msat':
        current.toLocalMsat = Number(p.value);
        break;
      case 'to_remote_msat':
        current.toRemoteMsat = Number(p.value);
        break;
      case 'local_feerate_per_kw':
        current.feeratePerKw = Number(p.value);
        break;
      case 'base commitment transaction fee':
        current.baseFeeSat = Number(p.value);
        break;
      case 'actual commitment transaction fee':
        current.actualFeeSat = Number(p.value);
        break;
      case 'remote_signature':
        current.remoteSignature = p.value;
        break;
      case 'local_signature':
        current.localSignature = p.value;
        break;
      case 'output commit_tx':
        current.commitTx = p.value;
        break;
      case 'num_htlcs':
        current.numHtlcs = Number(p.value);
        break;
    }
  }
  // x_local_per_commitment_secret is printed with the trailing 01 too.
  const out = {
    source: `${SOURCE}, Appendix C: Commitment and HTLC Transaction Test Vectors (the static_remotekey set)`,
    common,
    htlcs,
    vectors,
  };
  writeFileSync(
    'packages/tx/src/fixtures/bolt03-commitment-static-remotekey.json',
    `${JSON.stringify(out, null, 2)}\n`,
  );
}

// ---- Appendix F: anchors (a JSON block in the BOLT)
{
  const sec = section('# Appendix F', '# Appendix G').join('\n');
  const m = /```yaml\n([\s\S]*?)```/.exec(sec);
  const vectors = JSON.parse(m[1]);
  const out = {
    source: `${SOURCE}, Appendix F: Commitment and HTLC Transaction Test Vectors (anchors); keys, HTLCs and funding as in Appendix C`,
    vectors,
  };
  writeFileSync(
    'packages/tx/src/fixtures/bolt03-commitment-anchors.json',
    `${JSON.stringify(out, null, 2)}\n`,
  );
}

// ---- Appendix D: per-commitment secret generation and storage
{
  const gen = section('## Generation Tests', '## Storage Tests');
  const generation = [];
  for (const line of gen) {
    const p = kv(line);
    if (!p) continue;
    if (p.key === 'name') generation.push({ name: p.value });
    else if (p.key === 'seed') generation.at(-1).seed = strip0x(p.value);
    else if (p.key === 'I') generation.at(-1).index = String(BigInt(p.value));
    else if (p.key === 'output') generation.at(-1).output = strip0x(p.value);
  }
  const sto = section('## Storage Tests', '# Appendix E');
  const storage = [];
  for (const line of sto) {
    const p = kv(line);
    if (!p) continue;
    if (p.key === 'name') storage.push({ name: p.value, steps: [] });
    else if (p.key === 'I') storage.at(-1).steps.push({ index: String(BigInt(p.value)) });
    else if (p.key === 'secret') storage.at(-1).steps.at(-1).secret = strip0x(p.value);
    else if (p.key === 'output') storage.at(-1).steps.at(-1).ok = p.value === 'OK';
  }
  const out = {
    source: `${SOURCE}, Appendix D: Per-commitment Secret Generation Test Vectors (Generation Tests, Storage Tests); indexes as decimal strings`,
    generation,
    storage,
  };
  writeFileSync('packages/keys/src/fixtures/bolt03-shachain.json', `${JSON.stringify(out, null, 2)}\n`);
}

// ---- Appendix E: key derivation
{
  const sec = section('# Appendix E', '# Appendix F');
  const out = { source: `${SOURCE}, Appendix E: Key Derivation Test Vectors` };
  for (const line of sec) {
    const p = kv(line);
    if (!p || p.comment) continue;
    if (
      [
        'base_secret',
        'per_commitment_secret',
        'base_point',
        'per_commitment_point',
        'localpubkey',
        'localprivkey',
        'revocationpubkey',
        'revocationprivkey',
      ].includes(p.key)
    ) {
      out[p.key] = strip0x(p.value);
    }
  }
  writeFileSync('packages/keys/src/fixtures/bolt03-key-derivation.json', `${JSON.stringify(out, null, 2)}\n`);
}
console.log('fixtures written');
