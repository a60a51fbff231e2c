// How listings order ids, names and timestamps: by code point. String#localeCompare
// builds the locale's ICU collator on its first call, 5 to 40 ms of a `status` or `ls`
// that should take tens in all; and these are machine names and ISO times, whose order
// should not depend on the user's locale.

/** Sort comparator: a before b when its UTF-16 code units are smaller. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
