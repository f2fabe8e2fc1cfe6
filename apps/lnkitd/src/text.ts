/**
 * Text that came from outside (a config file, a flag, a request) is shown escaped: a control byte
 * echoed raw to a terminal can move the cursor, rewrite what is on screen or worse.
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

/** The first control character of `text` (see isControl), or -1. */
export function controlIndex(text: string): number {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return i;
  return -1;
}

/** `text` with every control character as \xNN or \uNNNN, and cut to `maxChars`. */
export function printable(text: string, maxChars = 200): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
  let out = '';
  for (const ch of cut) {
    const code = ch.charCodeAt(0);
    if (!isControl(code)) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** A value quoted for a message: `"value"`, escaped (see printable) and cut to 80 characters. */
export function shown(value: string): string {
  return `"${printable(value.replace(/\\/g, '\\\\').replace(/"/g, '\\"'), 80)}"`;
}
