/** `work`'s result, or a rejection saying `what` gave no answer within `timeoutMs`: a
 *  remote API that swallows packets would otherwise hold a command forever. The work
 *  itself is not cancelled (its socket times out on its own); only the wait ends. */
export async function answerWithin<T>(
  work: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from ${what} within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
