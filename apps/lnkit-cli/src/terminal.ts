/**
 * What lnkit-cli prints may hold text from others: an invoice's description, a peer's alias, an
 * error that quotes a request. A control character reaching the terminal raw could move the
 * cursor, rewrite the screen or set its title; each is shown escaped instead.
 */

/** C0 and C1 controls, DEL, and the Unicode line separators and bidirectional overrides. */
function isControl(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

const escaped = (code: number) =>
  code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;

/** Lines of text for the terminal: the line breaks kept, every other control character escaped. */
export function forTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += ch === '\n' || !isControl(code) ? ch : escaped(code);
  }
  return out;
}

/**
 * JSON for the terminal or a script: the same JSON value, with the control characters JSON
 * allows raw in strings (C1, DEL, separators, overrides) written as \u escapes.
 */
export function jsonForTerminal(json: string): string {
  let out = '';
  for (const ch of json) {
    const code = ch.charCodeAt(0);
    out += code >= 0x20 && isControl(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}
