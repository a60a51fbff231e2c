// A project command's shell text with the user's arguments added at its end, as "$@".
// Appended as they are, the arguments would vanish behind a comment the text ends with
// (`echo base # note "$@"`), or run as a command of their own after a `;` or a line
// continuation. The text's last line is read as sh reads it (quotes, escapes) to find
// where its command really ends.

/** `text "$@"`, with a trailing comment, `;` or backslash of the text's last line taken off. */
export function withArguments(text: string): string {
  const body = text.replace(/\s+$/, "");
  const lastLineStart = body.lastIndexOf("\n") + 1;
  const commentAt = commentStart(body, lastLineStart);
  let command = (commentAt === undefined ? body : body.slice(0, commentAt)).replace(/\s+$/, "");
  // A lone `;` (not `;;` of a case arm) or a line continuation ends the text.
  command = command
    .replace(/(^|[^;]);$/, "$1")
    .replace(/\\$/, "")
    .replace(/\s+$/, "");
  return command === "" ? '"$@"' : `${command} "$@"`;
}

// Where the comment of the line starting at `from` begins: a `#` outside quotes that
// starts a word. Quotes opened on earlier lines are followed from the start of the text.
function commentStart(text: string, from: number): number | undefined {
  let quote: "'" | '"' | undefined;
  // Whether the next character starts a word (an escaped blank does not end one).
  let atWordStart = true;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? "";
    if (quote === "'") {
      if (char === "'") quote = undefined;
      continue;
    }
    if (char === "\\") {
      index++;
      atWordStart = false;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      continue;
    }
    if (char === "#" && atWordStart && index >= from) return index;
    if (char === "'" || char === '"') quote = char;
    atWordStart = /[\s;&|()<>]/.test(char);
  }
  return undefined;
}
