import type { ErrorView, OperationView } from "../../src/dashboard/wire.js";

// The page's only way to the server: the token from the page's own URL on every request
// (a query parameter for reads and event streams, a header for changes, which the server
// refuses without it and without this page's Origin).

const token = new URLSearchParams(location.search).get("token") ?? "";

export function apiUrl(path: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ ...params, token });
  return `${path}?${query.toString()}`;
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(apiUrl(path));
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}

export interface Started {
  operation?: OperationView;
  error?: ErrorView;
}

/** Asks for a change; the operation it started, or why it was refused. */
export async function post(path: string, body: Record<string, unknown>): Promise<Started> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Prodlike-Token": token },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => ({}))) as Started;
  if (!response.ok && !answer.error) {
    return { error: { code: String(response.status), message: response.statusText } };
  }
  return answer;
}

/** Follows a server-sent event stream; the browser reconnects by itself. */
export function follow<T>(
  path: string,
  onMessage: (message: T) => void,
  onState: (connected: boolean) => void = () => undefined,
): () => void {
  const source = new EventSource(apiUrl(path));
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  source.onmessage = (event: MessageEvent<string>) => onMessage(JSON.parse(event.data) as T);
  return () => source.close();
}
