// BOLT 7 address descriptors (node_announcement `addresses`, init `remote_addr`).
import { ByteReader, ByteWriter } from './bytes.ts';
import { WireError } from './errors.ts';

export type NodeAddress =
  | { readonly kind: 'ipv4'; readonly addr: Uint8Array; readonly port: number }
  | { readonly kind: 'ipv6'; readonly addr: Uint8Array; readonly port: number }
  /** Type 3, deprecated: Tor v2 (10-byte onion + port). Decoded so what follows still parses. */
  | { readonly kind: 'torv2'; readonly addr: Uint8Array; readonly port: number }
  /** Type 4: `[32:ed25519_pubkey][2:checksum][1:version]` + port. */
  | { readonly kind: 'torv3'; readonly addr: Uint8Array; readonly port: number }
  | { readonly kind: 'dns'; readonly hostname: string; readonly port: number }
  /**
   * A descriptor of a type this package does not know. Its length is unknown, so
   * it and everything after it are kept as `data` (BOLT 7: "SHOULD ignore the
   * first address descriptor that does NOT match the types defined above").
   */
  | { readonly kind: 'unknown'; readonly addrType: number; readonly data: Uint8Array };

const FIXED: Record<number, { kind: 'ipv4' | 'ipv6' | 'torv2' | 'torv3'; len: number }> = {
  1: { kind: 'ipv4', len: 4 },
  2: { kind: 'ipv6', len: 16 },
  3: { kind: 'torv2', len: 10 },
  4: { kind: 'torv3', len: 35 },
};
const TYPE_OF = { ipv4: 1, ipv6: 2, torv2: 3, torv3: 4, dns: 5 } as const;

/** Decodes the `addresses` field. A known descriptor cut short throws WireError 'truncated'. */
export function decodeAddresses(bytes: Uint8Array, messageName?: string): NodeAddress[] {
  const r = new ByteReader(bytes, messageName);
  const out: NodeAddress[] = [];
  while (r.remaining > 0) {
    const t = r.u8('address type');
    const fixed = FIXED[t];
    if (fixed) {
      out.push({ kind: fixed.kind, addr: r.bytesN(fixed.len, `${fixed.kind} address`), port: r.u16('port') });
    } else if (t === 5) {
      const len = r.u8('hostname length');
      const host = r.bytesN(len, 'hostname');
      // BOLT 7: "hostname bytes MUST be ASCII characters".
      if (host.some((b) => b > 0x7f))
        throw new WireError('invalid-value', 'hostname is not ASCII', messageName);
      out.push({ kind: 'dns', hostname: String.fromCharCode(...host), port: r.u16('port') });
    } else {
      out.push({ kind: 'unknown', addrType: t, data: r.rest() });
    }
  }
  return out;
}

export function encodeAddresses(addresses: NodeAddress[]): Uint8Array {
  const w = new ByteWriter(64);
  addresses.forEach((a, i) => {
    if (a.kind === 'unknown') {
      if (i !== addresses.length - 1)
        throw new WireError('invalid-value', 'an unknown address descriptor must come last');
      w.u8(a.addrType, 'address type').bytes(a.data);
      return;
    }
    w.u8(TYPE_OF[a.kind]);
    if (a.kind === 'dns') {
      const host = a.hostname;
      if (host.length > 255 || [...host].some((c) => c.charCodeAt(0) > 0x7f))
        throw new WireError('invalid-value', 'hostname must be ASCII, at most 255 bytes');
      w.u8(host.length);
      for (let c = 0; c < host.length; c++) w.u8(host.charCodeAt(c));
    } else {
      const spec = FIXED[TYPE_OF[a.kind]];
      if (!spec) throw new WireError('invalid-value', 'bad address kind');
      w.fixed(a.addr, spec.len, `${a.kind} address`);
    }
    w.u16(a.port, 'port');
  });
  return w.finish();
}

/** A one-line form for logs and the API: `1.2.3.4:9735`, `[::1]:9735`, `host:9735`. */
export function formatAddress(a: NodeAddress): string {
  switch (a.kind) {
    case 'ipv4':
      return `${[...a.addr].join('.')}:${a.port}`;
    case 'ipv6': {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2)
        groups.push((((a.addr[i] ?? 0) << 8) | (a.addr[i + 1] ?? 0)).toString(16));
      return `[${groups.join(':')}]:${a.port}`;
    }
    case 'dns':
      return `${a.hostname}:${a.port}`;
    case 'torv2':
    case 'torv3':
      return `${a.kind}:${Buffer.from(a.addr).toString('hex')}:${a.port}`;
    case 'unknown':
      return `unknown(${a.addrType})`;
  }
}

export const addressesCodec = { decode: decodeAddresses, encode: encodeAddresses };
