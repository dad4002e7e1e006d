/** Exit codes every coldstart command uses; CI and the drill read them. */
export const EXIT = {
  ok: 0,
  /** A gate's condition did not hold (timeout, wrong state): the run stops, the message names the fix. */
  gateFailed: 1,
  /** Bad flags, bad config, unknown stack: nothing was done. */
  usage: 2,
  /** Escalate, never improvise (e.g. missing unseal keys, a partial MySQL outage). */
  blocker: 3,
  /** The subcommand exists but its logic has not landed yet. */
  notImplemented: 4,
  /** A second coldstart run holds the window/stack lock. */
  locked: 5,
  /** The operator declined the approval: nothing ran. */
  declined: 6,
  /** drill: the --cancel-at/--kill-at asked for was never reached (the rehearsal did not happen). */
  notReached: 7,
  /** Cancelled by the operator (Ctrl-C / SIGTERM). */
  cancelled: 130,
  /** A bug in coldstart itself. */
  internal: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
