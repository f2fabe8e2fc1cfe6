/**
 * BOLT 8: Noise_XK_secp256k1_ChaChaPoly_SHA256 — the three-act handshake and the
 * transport cipher with its key rotation. Pure: no sockets, no timers. The node's static
 * key is reached only through `NodeKeyEcdh`, so it can live in the signer pool; the
 * ephemeral key (created and dropped with the connection) and its ECDH run in-thread, on
 * libsecp256k1 (`secp`): a handshake is one key generation and three ECDH per side, and each
 * of them on noble cost as much as everything else in the handshake together.
 */
import {
  type CryptoService,
  decryptWithAd,
  encryptWithAd,
  generateKeyPair,
  hkdfSha256,
  inThreadCrypto,
  isValidPublicKey,
  type KeyPair,
  secp,
  sha256,
} from '@lnkit/crypto';
import { PeerNetError } from './errors.ts';

/** The node's static key as the handshake needs it: its public key and ECDH with it. */
export interface NodeKeyEcdh {
  /** 33-byte compressed public key (the node id). */
  readonly publicKey: Uint8Array;
  /** BOLT 8 ECDH: sha256 of the compressed shared point of the node key and `publicKey`. */
  ecdh(publicKey: Uint8Array): Promise<Uint8Array>;
}

/** A NodeKeyEcdh over a private key held by a CryptoService (in-thread or the pool). */
export function nodeKeyEcdh(privateKey: Uint8Array, crypto: CryptoService = inThreadCrypto): NodeKeyEcdh {
  const key = privateKey.slice();
  return {
    publicKey: secp.publicKey(key),
    ecdh: (publicKey) => crypto.ecdh(key, publicKey),
  };
}

// BOLT 8: protocolName and prologue of the handshake state initialization.
const PROTOCOL_NAME = new TextEncoder().encode('Noise_XK_secp256k1_ChaChaPoly_SHA256');
const PROLOGUE = new TextEncoder().encode('lightning');
const EMPTY = new Uint8Array(0);
const ZERO_NONCE = 0;
/** BOLT 8: h = SHA-256(protocolName); ck = h — the same for every handshake. */
const INITIAL_CK = sha256(PROTOCOL_NAME);
/** …then h = SHA-256(h || prologue), also the same for every handshake. */
const H_AFTER_PROLOGUE = sha256(INITIAL_CK, PROLOGUE);
/**
 * …then h = SHA-256(h || rs.pub): for a responder always its own key, so computed once per
 * node key rather than once per inbound connection.
 */
const hAfterOwnKey = new WeakMap<NodeKeyEcdh, Uint8Array>();

export const ACT_ONE_SIZE = 50;
export const ACT_TWO_SIZE = 50;
export const ACT_THREE_SIZE = 66;
/** BOLT 8: the length prefix is 2 bytes plus its 16-byte MAC. */
export const LENGTH_HEADER_SIZE = 18;
export const MAC_SIZE = 16;
/** BOLT 8: the maximum size of a Lightning message (its length is a u16). */
export const MAX_MESSAGE_SIZE = 65535;
/** BOLT 8: a key is rotated after it has been used for 1000 encryptions or decryptions. */
const ROTATE_AFTER = 1000;

/**
 * BOLT 8: HKDF(salt, ikm) with a zero-length info, 64 bytes split in two 32-byte halves (RFC 5869).
 * @lnkit/crypto's runs in JavaScript, without the three native HMAC objects it would otherwise take.
 */
export function hkdf(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  return hkdfSha256(salt, ikm);
}

/**
 * ECDH with our ephemeral key. It is also the check that the peer's key is a point (BOLT 8:
 * "If the bytes of re are not a valid secp256k1 point, abort"): libsecp256k1 parses the point
 * for the multiplication, and parsing it a second time beforehand would only cost as much again.
 */
function ephemeralEcdh(privateKey: Uint8Array, publicKey: Uint8Array, what: string): Uint8Array {
  try {
    return secp.ecdh(privateKey, publicKey);
  } catch {
    throw new PeerNetError('handshake-bad-pubkey', `${what} does not parse`);
  }
}

/** The ephemeral key pair: fresh, or (BOLT 8 test vectors only) the given private key. */
function ephemeralKeyPair(privateKey: Uint8Array | undefined): KeyPair {
  if (!privateKey) return generateKeyPair();
  const key = privateKey.slice();
  return { privateKey: key, publicKey: secp.publicKey(key) };
}

/** The keys a completed handshake leaves: one cipher each way, sharing the final chaining key. */
export interface TransportKeys {
  sendingKey: Uint8Array;
  receivingKey: Uint8Array;
  chainingKey: Uint8Array;
  /** The other side's static key (its node id). */
  remoteStatic: Uint8Array;
}

/** Shared state of both roles: h (handshake hash), ck (chaining key), temp_k. */
class SymmetricState {
  h: Uint8Array;
  ck: Uint8Array = INITIAL_CK;
  /** `h` after the responder's static key is mixed in (see SymmetricState.forResponder). */
  constructor(h: Uint8Array) {
    this.h = h;
  }
  /** BOLT 8: h = SHA-256(protocolName); ck = h; h = SHA-256(h || prologue); h = SHA-256(h || rs.pub) */
  static forResponder(responderStatic: Uint8Array): SymmetricState {
    return new SymmetricState(sha256(H_AFTER_PROLOGUE, responderStatic));
  }
  /** The same, from the responder's side: its own key, whose `h` is computed once per node key. */
  static forOwnKey(localStatic: NodeKeyEcdh): SymmetricState {
    let h = hAfterOwnKey.get(localStatic);
    if (!h) {
      h = sha256(H_AFTER_PROLOGUE, localStatic.publicKey);
      hAfterOwnKey.set(localStatic, h);
    }
    return new SymmetricState(h);
  }
  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }
  mixKey(ikm: Uint8Array): Uint8Array {
    const [ck, tempK] = hkdf(this.ck, ikm);
    this.ck = ck;
    return tempK;
  }
  split(): [Uint8Array, Uint8Array] {
    return hkdf(this.ck, EMPTY);
  }
}

/**
 * A promise that is awaited later, after code that may throw: marked handled now, so that its
 * rejection in the meantime is not an unhandled one. The caller's `await` still sees it.
 */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Checks version byte and key of act one or act two; returns the ephemeral key and the tag. */
function parseEphemeralAct(act: Uint8Array, size: number): { re: Uint8Array; c: Uint8Array } {
  if (!(act instanceof Uint8Array) || act.length !== size) {
    throw new PeerNetError('handshake-short-read', `act must be ${size} bytes, got ${act?.length ?? 0}`);
  }
  // BOLT 8: if v is an unrecognized handshake version, the responder MUST abort the connection attempt.
  if (act[0] !== 0) throw new PeerNetError('handshake-bad-version', `unknown handshake version ${act[0]}`);
  const re = act.subarray(1, 34);
  // A compressed point, checked on the curve by the ECDH that uses it (ephemeralEcdh).
  if (re[0] !== 2 && re[0] !== 3)
    throw new PeerNetError('handshake-bad-pubkey', 'ephemeral key does not parse');
  return { re: re.slice(), c: act.subarray(34) };
}

function decryptOrThrow(
  key: Uint8Array,
  nonce: number,
  ad: Uint8Array,
  c: Uint8Array,
  code: 'handshake-bad-tag' | 'handshake-bad-ciphertext',
): Uint8Array {
  try {
    return decryptWithAd(key, nonce, ad, c);
  } catch {
    throw new PeerNetError(
      code,
      code === 'handshake-bad-tag' ? 'handshake MAC does not verify' : 'static key does not decrypt',
    );
  }
}

/** BOLT 8 initiator: knows the responder's node id up front (the "K" of XK). */
export class HandshakeInitiator {
  private readonly state: SymmetricState;
  private readonly ephemeral: KeyPair;
  private step: 'act-one' | 'act-two' | 'done' | 'failed' = 'act-one';
  private tempK2: Uint8Array = EMPTY;

  /** `ephemeralPrivateKey` exists for the BOLT 8 test vectors only; leave it out otherwise. */
  constructor(
    private readonly localStatic: NodeKeyEcdh,
    private readonly remoteStatic: Uint8Array,
    ephemeralPrivateKey?: Uint8Array,
  ) {
    if (!isValidPublicKey(remoteStatic) || remoteStatic.length !== 33) {
      throw new PeerNetError('invalid-argument', 'remote node id must be a 33-byte compressed public key');
    }
    this.state = SymmetricState.forResponder(remoteStatic);
    this.ephemeral = ephemeralKeyPair(ephemeralPrivateKey);
  }

  /** Act one: 50 bytes to send. */
  actOne(): Uint8Array {
    if (this.step !== 'act-one') throw new PeerNetError('handshake-state', 'act one already sent');
    const s = this.state;
    const e = this.ephemeral.publicKey;
    s.mixHash(e);
    const tempK1 = s.mixKey(ephemeralEcdh(this.ephemeral.privateKey, this.remoteStatic, 'remote node id'));
    const c = encryptWithAd(tempK1, ZERO_NONCE, s.h, EMPTY);
    s.mixHash(c);
    this.step = 'act-two';
    const out = new Uint8Array(ACT_ONE_SIZE);
    out[0] = 0;
    out.set(e, 1);
    out.set(c, 34);
    return out;
  }

  /** Takes act two (50 bytes), returns act three (66 bytes) and the transport keys. */
  async actTwo(act: Uint8Array): Promise<{ actThree: Uint8Array; keys: TransportKeys }> {
    if (this.step !== 'act-two') throw new PeerNetError('handshake-state', 'act two not expected now');
    this.step = 'failed';
    const s = this.state;
    const { re, c } = parseEphemeralAct(act, ACT_TWO_SIZE);
    // se = ECDH(s.priv, re) depends on re alone: ask for it now, so that the node key (perhaps
    // in another thread) works while ee and the MAC are done here. If the MAC fails, the
    // answer is dropped unused.
    const se = settled(this.localStatic.ecdh(re));
    s.mixHash(re);
    this.tempK2 = s.mixKey(ephemeralEcdh(this.ephemeral.privateKey, re, 'ephemeral key'));
    decryptOrThrow(this.tempK2, ZERO_NONCE, s.h, c, 'handshake-bad-tag');
    s.mixHash(c);
    // Act three: the static key encrypted with temp_k2 and nonce 1, then se.
    const encryptedStatic = encryptWithAd(this.tempK2, 1, s.h, this.localStatic.publicKey);
    s.mixHash(encryptedStatic);
    const tempK3 = s.mixKey(await se);
    const t = encryptWithAd(tempK3, ZERO_NONCE, s.h, EMPTY);
    const [sk, rk] = s.split();
    const actThree = new Uint8Array(ACT_THREE_SIZE);
    actThree[0] = 0;
    actThree.set(encryptedStatic, 1);
    actThree.set(t, 50);
    this.step = 'done';
    return {
      actThree,
      keys: { sendingKey: sk, receivingKey: rk, chainingKey: s.ck, remoteStatic: this.remoteStatic.slice() },
    };
  }
}

/** BOLT 8 responder: learns the initiator's node id from act three. */
export class HandshakeResponder {
  private readonly state: SymmetricState;
  /** Made in act one, while the node key's ECDH is under way (see actOne). */
  private ephemeral: KeyPair | undefined;
  private step: 'act-one' | 'act-three' | 'done' | 'failed' = 'act-one';
  private tempK2: Uint8Array = EMPTY;

  /** `ephemeralPrivateKey` exists for the BOLT 8 test vectors only; leave it out otherwise. */
  constructor(
    private readonly localStatic: NodeKeyEcdh,
    private readonly ephemeralPrivateKey?: Uint8Array,
  ) {
    this.state = SymmetricState.forOwnKey(localStatic);
  }

  /** Takes act one (50 bytes), returns act two (50 bytes). */
  async actOne(act: Uint8Array): Promise<Uint8Array> {
    if (this.step !== 'act-one') throw new PeerNetError('handshake-state', 'act one not expected now');
    this.step = 'failed';
    const s = this.state;
    const { re, c } = parseEphemeralAct(act, ACT_ONE_SIZE);
    // BOLT 8: es = ECDH(s.priv, re) — the one ECDH of the responder that needs the node key.
    // Asked for first, so that our ephemeral key and act two's ee = ECDH(e.priv, re) are
    // computed here meanwhile (they need only re; if act one's MAC fails they are dropped).
    const es = settled(this.localStatic.ecdh(re));
    const ephemeral = ephemeralKeyPair(this.ephemeralPrivateKey);
    this.ephemeral = ephemeral;
    const ee = ephemeralEcdh(ephemeral.privateKey, re, 'ephemeral key');
    s.mixHash(re);
    const tempK1 = s.mixKey(await es);
    decryptOrThrow(tempK1, ZERO_NONCE, s.h, c, 'handshake-bad-tag');
    s.mixHash(c);
    // Act two.
    const e = ephemeral.publicKey;
    s.mixHash(e);
    this.tempK2 = s.mixKey(ee);
    const c2 = encryptWithAd(this.tempK2, ZERO_NONCE, s.h, EMPTY);
    s.mixHash(c2);
    this.step = 'act-three';
    const out = new Uint8Array(ACT_TWO_SIZE);
    out[0] = 0;
    out.set(e, 1);
    out.set(c2, 34);
    return out;
  }

  /** Takes act three (66 bytes), returns the transport keys with the initiator's node id. */
  actThree(act: Uint8Array): TransportKeys {
    if (this.step !== 'act-three') throw new PeerNetError('handshake-state', 'act three not expected now');
    this.step = 'failed';
    const s = this.state;
    if (!(act instanceof Uint8Array) || act.length !== ACT_THREE_SIZE) {
      throw new PeerNetError(
        'handshake-short-read',
        `act three must be ${ACT_THREE_SIZE} bytes, got ${act?.length ?? 0}`,
      );
    }
    if (act[0] !== 0) throw new PeerNetError('handshake-bad-version', `unknown handshake version ${act[0]}`);
    const c = act.subarray(1, 50);
    const t = act.subarray(50);
    const rs = decryptOrThrow(this.tempK2, 1, s.h, c, 'handshake-bad-ciphertext');
    if (rs.length !== 33 || (rs[0] !== 2 && rs[0] !== 3))
      throw new PeerNetError('handshake-bad-pubkey', 'static key does not parse');
    s.mixHash(c);
    // On the curve: checked by this ECDH (see ephemeralEcdh).
    // this.ephemeral is set: act one passed (step).
    const tempK3 = s.mixKey(ephemeralEcdh(this.ephemeral!.privateKey, rs, 'static key'));
    decryptOrThrow(tempK3, ZERO_NONCE, s.h, t, 'handshake-bad-tag');
    const [rk, sk] = s.split();
    this.step = 'done';
    return { sendingKey: sk, receivingKey: rk, chainingKey: s.ck, remoteStatic: rs };
  }
}

/**
 * One direction of the transport: ChaCha20-Poly1305 with a counter nonce, rotating its
 * key every 1000 uses (BOLT 8 "Lightning Message Key Rotation"). Each message uses it twice
 * (length, then body), so the key changes every 500 messages.
 */
export class CipherState {
  private key: Uint8Array;
  private chainingKey: Uint8Array;
  private nonce = 0;

  constructor(key: Uint8Array, chainingKey: Uint8Array) {
    this.key = key.slice();
    this.chainingKey = chainingKey.slice();
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    const out = encryptWithAd(this.key, this.nonce, EMPTY, plaintext);
    this.advance();
    return out;
  }

  /** The key and nonce for the next encryption, consumed without encrypting (the work is done elsewhere). */
  take(): { key: Uint8Array; counter: number } {
    const out = { key: this.key, counter: this.nonce };
    this.advance();
    return out;
  }

  /** Throws PeerNetError('bad-mac') when the MAC does not verify. */
  decrypt(ciphertext: Uint8Array): Uint8Array {
    let out: Uint8Array;
    try {
      out = decryptWithAd(this.key, this.nonce, EMPTY, ciphertext);
    } catch {
      throw new PeerNetError('bad-mac', 'message MAC does not verify');
    }
    this.advance();
    return out;
  }

  private advance(): void {
    this.nonce++;
    if (this.nonce === ROTATE_AFTER) {
      // BOLT 8: ck', k' = HKDF(ck, k); reset the nonce to 0.
      const [ck, k] = hkdf(this.chainingKey, this.key);
      this.chainingKey = ck;
      this.key = k;
      this.nonce = 0;
    }
  }
}

/** Encrypts outgoing messages: 18-byte encrypted length, then the encrypted body with its MAC. */
export class MessageEncryptor {
  private readonly cipher: CipherState;
  constructor(keys: Pick<TransportKeys, 'sendingKey' | 'chainingKey'>) {
    this.cipher = new CipherState(keys.sendingKey, keys.chainingKey);
  }

  encrypt(message: Uint8Array): Uint8Array {
    if (message.length > MAX_MESSAGE_SIZE) {
      throw new PeerNetError(
        'message-too-long',
        `message of ${message.length} bytes exceeds ${MAX_MESSAGE_SIZE}`,
      );
    }
    const length = new Uint8Array(2);
    new DataView(length.buffer).setUint16(0, message.length, false);
    const lc = this.cipher.encrypt(length);
    const c = this.cipher.encrypt(message);
    const out = new Uint8Array(lc.length + c.length);
    out.set(lc, 0);
    out.set(c, lc.length);
    return out;
  }

  /**
   * The two encryptions a message needs (length, then body), with their keys and nonces, so a
   * batch can be encrypted in the crypto pool. The state advances as if they were done; the
   * frame is the two ciphertexts concatenated, in this order.
   */
  plan(message: Uint8Array): [FrameSealRequest, FrameSealRequest] {
    if (message.length > MAX_MESSAGE_SIZE) {
      throw new PeerNetError(
        'message-too-long',
        `message of ${message.length} bytes exceeds ${MAX_MESSAGE_SIZE}`,
      );
    }
    const length = new Uint8Array(2);
    new DataView(length.buffer).setUint16(0, message.length, false);
    return [
      { ...this.cipher.take(), plaintext: length },
      { ...this.cipher.take(), plaintext: message },
    ];
  }
}

/** One ChaCha20-Poly1305 encryption with an empty AD (the shape of @lnkit/crypto's AeadEncryptRequest). */
export interface FrameSealRequest {
  key: Uint8Array;
  counter: number;
  plaintext: Uint8Array;
}

/** Something that encrypts frames in bulk, e.g. the CryptoPool (`encryptBatch`). */
export interface FrameSealer {
  encryptBatch(requests: readonly FrameSealRequest[]): Promise<Uint8Array[]>;
}

/**
 * Decrypts an incoming byte stream into messages. Feed it whatever the socket gives;
 * it keeps partial frames. Any MAC failure is final: BOLT 8 says the connection MUST be
 * closed, so every later call throws too. Frames that verified before the failing one in
 * the same chunk are still returned (they are authentic: an `error` followed by garbage
 * must not be lost); `failure` then says the stream is dead and the caller closes it.
 */
export class MessageDecryptor {
  private readonly cipher: CipherState;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private bodyLength = -1;
  private failed: PeerNetError | null = null;

  /** `maxMessageSize` below 65535 lets a node refuse frames larger than it is willing to buffer. */
  constructor(
    keys: Pick<TransportKeys, 'receivingKey' | 'chainingKey'>,
    private readonly maxMessageSize = MAX_MESSAGE_SIZE,
  ) {
    this.cipher = new CipherState(keys.receivingKey, keys.chainingKey);
  }

  /** Bytes held that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Set once a frame failed (bad MAC, too long): nothing more will be decrypted. */
  get failure(): PeerNetError | null {
    return this.failed;
  }

  /** Adds bytes; returns every whole message they complete, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (bytes.length > 0) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
    }
    const out: Uint8Array[] = [];
    try {
      for (;;) {
        if (this.bodyLength < 0) {
          if (this.buffered < LENGTH_HEADER_SIZE) break;
          const lc = this.take(LENGTH_HEADER_SIZE);
          const l = this.cipher.decrypt(lc);
          this.bodyLength = ((l[0] ?? 0) << 8) | (l[1] ?? 0);
          if (this.bodyLength > this.maxMessageSize) {
            throw new PeerNetError(
              'message-too-long',
              `frame of ${this.bodyLength} bytes exceeds ${this.maxMessageSize}`,
            );
          }
        }
        if (this.buffered < this.bodyLength + MAC_SIZE) break;
        const c = this.take(this.bodyLength + MAC_SIZE);
        this.bodyLength = -1;
        out.push(this.cipher.decrypt(c));
      }
    } catch (e) {
      this.failed = e instanceof PeerNetError ? e : new PeerNetError('bad-mac', 'message does not decrypt');
      this.chunks = [];
      this.buffered = 0;
      if (out.length === 0) throw this.failed;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const want = Math.min(n - filled, chunk.length);
      out.set(chunk.subarray(0, want), filled);
      filled += want;
      if (want === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(want);
    }
    this.buffered -= n;
    return out;
  }
}
