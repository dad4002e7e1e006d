// Test-only probe, loaded into every node process of a run by NODE_OPTIONS=--require: a step's
// process (COLDSTART_STEP set) appends one line to $KEYS_PROBE_LOG naming the unseal-key
// variables in its initial environment (/proc/self/environ, what any process of the same user
// can read, proc(5)) and in its parent's when that is the same step's /bin/sh -c (a shell that
// exec'd leaves the engine as the parent, whose own keys are not a step's). Names only,
// never a value. COLDSTART_UNSEAL_KEYS_FILE's value is a path, logged with whether it is a FIFO.
"use strict";
const fs = require("node:fs");
const log = process.env.KEYS_PROBE_LOG;
const step = process.env.COLDSTART_STEP;
if (log && step) {
  /** The initial environment of `pid` as NAME=value entries, or null when it is gone. */
  const environ = (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    } catch {
      return null;
    }
  };
  const keyNames = (entries) =>
    entries && entries.map((kv) => kv.slice(0, kv.indexOf("="))).filter((k) => k.startsWith("COLDSTART_UNSEAL_KEY"));
  const parent = environ(process.ppid);
  const parentIsStep = Boolean(parent && parent.includes(`COLDSTART_STEP=${step}`));
  const file = process.env.COLDSTART_UNSEAL_KEYS_FILE;
  let fifo = null;
  try {
    fifo = file ? fs.statSync(file).isFIFO() : null;
  } catch {
    fifo = false;
  }
  const entry = {
    step,
    argv: process.argv.slice(2, 4),
    self: keyNames(environ("self")),
    parent: parentIsStep ? keyNames(parent) : null,
    file,
    fifo,
  };
  fs.appendFileSync(log, JSON.stringify(entry) + "\n");
}
