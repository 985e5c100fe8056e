// C0 controls (ESC starts terminal escape sequences, CR and BS overwrite what was printed), DEL, and C1 controls
// (U+009B is an 8-bit CSI to some terminals). Bidi overrides are left alone: they reorder, they do not command.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text from a peer (a registry's error message, a name from an archive, a containerd status) made safe to print
 * on a terminal: every control character is written as a visible escape (`\x1b`, `\n`, `\u009b`), so the
 * peer cannot clear the screen, move the cursor, set the title, or forge further lines.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
