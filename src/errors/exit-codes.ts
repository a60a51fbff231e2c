// The documented exit codes. Scripts branch on these, so they never change meaning.
export const ExitCode = {
  ok: 0,
  /** The operation ran and failed (a container did not become healthy, a command failed). */
  failed: 1,
  /** Bad input: prodlike.yaml, a flag, an argument. Nothing was changed. */
  invalidInput: 2,
  /** Something prodlike needs is missing here: the Docker engine, compose, a base image. */
  missingPrerequisite: 3,
  /** The named environment or service does not exist. */
  notFound: 4,
  /** Another prodlike process holds this environment's lock. */
  busy: 5,
  /** `up`: the new release did not come up; the previous one runs again, data kept. */
  rolledBack: 6,
  /** Interrupted by the user (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
