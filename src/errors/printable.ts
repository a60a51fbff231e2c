// Error hints quote what tools printed: never raw binary, never a whole statement.

/**
 * Text safe to print in a terminal: control characters and undecodable bytes shown as
 * `\xNN`, each line cut to `max` characters (a 262 KB INSERT is not a hint).
 */
export function printable(text: string, max = 300): string {
  return text
    .split("\n")
    .map((line) => {
      const cut = line.length > max ? line.slice(0, max) : line;
      const clean = Array.from(cut, (character) => {
        const code = character.codePointAt(0) ?? 0;
        const unprintable =
          (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f) || code === 0xfffd;
        return unprintable ? `\\x${code.toString(16).padStart(2, "0")}` : character;
      }).join("");
      return line.length > max ? `${clean}… (${line.length - max} more characters)` : clean;
    })
    .join("\n");
}
