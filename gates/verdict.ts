/**
 * What every decision function returns. Decisions are pure: parsed outputs in, verdict out.
 * The I/O edge (cli/, runtime/) prints the verdict, polls on it and records it.
 */
import type { RouteId } from "./routes";

export interface Verdict<State extends string = string> {
  /** The gate's condition holds (or, for a check, the run may proceed). */
  ok: boolean;
  /** The classified state, e.g. "healthy" | "complete-outage". */
  state: State;
  /** One human line of what was seen. */
  summary: string;
  /** One line per unit / host / guest / LB that explains the state. */
  details: string[];
  /** When not ok: the runbook fix this symptom routes to. */
  route?: RouteId;
}
