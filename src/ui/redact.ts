// Replaces every known secret value in text. Applied to everything prodlike prints that
// might carry one: compose output, container log tails in errors, --json documents.
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    // Short values would also blank out ordinary words; prodlike's own secrets are long.
    if (secret.length >= 6) result = result.split(secret).join("********");
  }
  return result;
}

export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  return JSON.parse(redact(JSON.stringify(value), secrets)) as T;
}
