import type { LogLevel } from "./wire.js";

// A log line's level, guessed from the words servers put in their lines (nginx's
// "[error]", PHP's "PHP Warning:", MariaDB's "[Warning]", JSON's "level":"info"). A line
// that names none is info, whichever stream it came on: nginx and php-fpm write ordinary
// lines to stderr.

const LEVELS: [LogLevel, RegExp][] = [
  ["error", /\b(?:emerg|alert|crit(?:ical)?|fatal|error|err|panic|exception)\b/i],
  ["warn", /\b(?:warn(?:ing)?|notice|deprecated)\b/i],
  ["debug", /\b(?:debug|trace)\b/i],
];

export function levelOf(text: string): LogLevel {
  // Only the head of a line: a stack trace's tenth frame naming an ErrorHandler class
  // does not make an info line an error.
  const head = text.slice(0, 160);
  for (const [level, pattern] of LEVELS) if (pattern.test(head)) return level;
  return "info";
}
