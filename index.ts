/**
 * coldstart: runbooks/ops-restart-procedure.md as a Pulumi program.
 * `pulumi preview --stack roosevelt` shows the restart plan; `pulumi up` runs it.
 */
import "./node-version";
import { restartProgram } from "./program";

const outputs = restartProgram();

export const window = outputs.window;
export const mode = outputs.mode;
export const finalGate = outputs.finalGate;
