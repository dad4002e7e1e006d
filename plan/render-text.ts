/**
 * The plan as an operator reads it: stages in order, each step with what it runs, what it waits
 * for and what happens when it fails. The per-host steps of a stage (the power stages: power-off
 * then its power-state gate, on every host) read as one group: the hosts on one line, then each
 * kind of step once, with `<host>` where the host goes.
 */
import type { Plan, PlanStep } from "./model";
import { formatDuration } from "../config/duration";

function marks(step: PlanStep): string {
  const out: string[] = [];
  if (step.destructive) out.push("DESTRUCTIVE");
  if (step.guard) out.push("guarded");
  if (step.revalidate) out.push("REVALIDATE");
  return out.length ? `  [${out.join(", ")}]` : "";
}

/**
 * What happens when the step fails, in one line: the step definition's own `onFailure` (the
 * plan model carries it) when present, else what follows from the step's kind; around it what
 * follows from its guard and destructive mark -- rules the steps enforce (README "The steps",
 * "When a step is killed outright").
 */
export function onFailureOf(step: PlanStep): string {
  const stops = "stops the run (no step after it starts)";
  const core =
    step.onFailure?.trim() ||
    (step.verb === "gate"
      ? `${stops}, printing the fix routed per the runbook's quick reference`
      : step.verb === "check"
        ? `read-only, nothing changed; ${stops}; the fix routes per the runbook's quick reference`
        : stops);
  const parts: string[] = [];
  if (step.guard) parts.push("guard does not hold: nothing runs");
  parts.push(step.guard ? `the action fails: ${core}` : core);
  if (step.destructive) parts.push("never run blind twice in one window: the resume follows the earlier attempt");
  return parts.join("; ");
}

function timing(step: PlanStep): string {
  return `engine timeout ${step.timeout} (worst case ${formatDuration(step.worstCaseMs)}: ${step.budget.join(" + ")})`;
}

/** One create line as shell words: the raw text of each word (quotes kept) and its value. */
export interface Word {
  raw: string;
  value: string;
}

/**
 * Split a POSIX-shell line as stages/command-line.ts writes it (plain words and '…' quoting) into
 * the command's words and the tail from the first unquoted `;` on (`; exit $?`), kept verbatim.
 */
export function shellWords(line: string): { words: Word[]; tail: string } {
  const words: Word[] = [];
  let tail = "";
  let raw = "";
  let value = "";
  let quoted = false;
  const flush = () => {
    if (raw !== "") words.push({ raw, value });
    raw = "";
    value = "";
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      raw += c;
      if (c === "'") quoted = false;
      else value += c;
    } else if (c === "'") {
      raw += c;
      quoted = true;
    } else if (c === "\\" && i + 1 < line.length) {
      raw += c + line[i + 1];
      value += line[++i];
    } else if (c === " ") {
      flush();
    } else if (c === ";") {
      tail = line.slice(i);
      break;
    } else {
      raw += c;
      value += c;
    }
  }
  flush();
  return { words, tail };
}

/** The host a step acts on: its `--host` flag (the power steps), if any. */
function hostOf(step: PlanStep): string | undefined {
  const { words } = shellWords(step.create);
  const at = words.findIndex((w) => w.value === "--host");
  return at >= 0 && at + 1 < words.length ? words[at + 1].value : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `text` with every whole-word occurrence of `host` written as `<host>`. */
function templated(text: string, host: string): string {
  return text.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(host)}(?![A-Za-z0-9_])`, "g"), "<host>");
}

/** One kind of step of a host group, written once for every host. */
interface Template {
  verb: string;
  name: string;
  summary: string;
  create: string;
  after: string[];
  timing: string;
  guard?: string;
  revalidate?: string;
  marks: string;
  onFailure: string;
}

interface HostGroup {
  hosts: string[];
  /** The group's steps, kind by kind (every host's first step, then every host's second, ...). */
  steps: PlanStep[];
  templates: Template[];
  /** What differs between hosts besides the host name: `host -> ["system-id=e8xa8m"]`. */
  perHost: Map<string, string[]>;
  parallel: boolean;
}

/**
 * The create lines of one kind of step on every host, as one line with `<host>` and `<flag>`
 * placeholders; undefined when they differ in anything but a flag's value.
 */
function templateCreate(steps: PlanStep[], hosts: string[], perHost: Map<string, string[]>): string | undefined {
  const split = steps.map((s) => shellWords(s.create));
  // grouping must never change what the plan shows: the words must give back the exact line
  if (split.some(({ words, tail }, i) => words.map((w) => w.raw).join(" ") + tail !== steps[i].create))
    return undefined;
  if (split.some(({ tail }) => tail !== split[0].tail)) return undefined;
  const lines = split.map(({ words }) => words);
  if (lines.some((words) => words.length !== lines[0].length)) return undefined;
  const out: string[] = [];
  for (let at = 0; at < lines[0].length; at++) {
    const column = lines.map((words) => words[at]);
    if (column.every((w) => w.raw === column[0].raw)) {
      out.push(column[0].raw);
    } else if (column.every((w, i) => w.value === hosts[i])) {
      out.push("<host>");
    } else {
      const flag =
        at > 0 && lines.every((words) => words[at - 1].raw === lines[0][at - 1].raw) ? lines[0][at - 1].value : "";
      if (!/^--[a-z0-9-]+$/.test(flag)) return undefined;
      const name = flag.slice(2);
      out.push(`<${name}>`);
      column.forEach((w, i) => {
        const note = `${name}=${w.value}`;
        const list = perHost.get(hosts[i])!;
        if (!list.includes(note)) list.push(note);
      });
    }
  }
  return out.join(" ") + split[0].tail;
}

/** The steps of `stage` that act on one host each, as a group, when every host's steps read alike. */
function hostGroup(steps: PlanStep[]): HostGroup | undefined {
  const byHost = new Map<string, PlanStep[]>();
  for (const step of steps) {
    const host = hostOf(step);
    if (host) byHost.set(host, [...(byHost.get(host) ?? []), step]);
  }
  const hosts = [...byHost.keys()];
  if (hosts.length < 2) return undefined;
  const lanes = hosts.map((h) => byHost.get(h)!);
  if (lanes.some((lane) => lane.length !== lanes[0].length)) return undefined;
  const perHost = new Map(hosts.map((h) => [h, [] as string[]]));
  const templates: Template[] = [];
  for (let k = 0; k < lanes[0].length; k++) {
    const kind = lanes.map((lane) => lane[k]);
    // a dependency on the same host's step reads `<host>`; one outside the group stays as it is
    const own = (host: string) => new Set(byHost.get(host)!.map((s) => s.name));
    // one template per kind: everything but the host must read the same on every host
    const same = <T>(f: (s: PlanStep, host: string) => T) => {
      const values = kind.map((s, i) => JSON.stringify(f(s, hosts[i])));
      return values.every((v) => v === values[0]);
    };
    const t = (s: PlanStep, host: string) => ({
      verb: s.verb,
      name: templated(s.name, host),
      summary: templated(s.summary, host),
      after: s.dependsOn.map((d) => (own(host).has(d) ? templated(d, host) : d)),
      timing: timing(s),
      guard: s.guard === undefined ? undefined : templated(s.guard, host),
      revalidate: s.revalidate === undefined ? undefined : templated(s.revalidate, host),
      marks: marks(s),
      onFailure: templated(onFailureOf(s), host),
    });
    if (!same(t)) return undefined;
    // the name must really carry the host, or `<host>` would hide which step is which
    if (!t(kind[0], hosts[0]).name.includes("<host>")) return undefined;
    const create = templateCreate(kind, hosts, perHost);
    if (create === undefined) return undefined;
    templates.push({ ...t(kind[0], hosts[0]), create });
  }
  const first = lanes.map((lane) => lane[0]);
  return {
    hosts,
    steps: templates.flatMap((_, k) => lanes.map((lane) => lane[k])),
    templates,
    perHost,
    parallel: first.every((s) => s.depth === first[0].depth),
  };
}

function renderGroup(group: HostGroup, first: number, lines: string[]): void {
  const range = `${first}-${first + group.steps.length - 1}`;
  const chain = group.templates.map((t) => `${t.verb} ${t.name}`).join(" -> ");
  const how = group.parallel ? "in parallel" : "one after another";
  lines.push(
    `${range.padStart(3)}. ${group.templates[0].name.replace(/-?<host>-?/, "")}: ${group.hosts.join(", ")}  (${how}, each: ${chain})`,
  );
  const notes = group.hosts
    .filter((h) => group.perHost.get(h)!.length)
    .map((h) => `${h} ${group.perHost.get(h)!.join(" ")}`);
  if (notes.length) lines.push(`       per host: ${notes.join("; ")}`);
  for (const t of group.templates) {
    lines.push(`     ${t.verb.padEnd(5)} ${t.name}${t.marks}`);
    lines.push(`       ${t.summary}`);
    lines.push(`       $ ${t.create}`);
    lines.push(`       after: ${t.after.length ? t.after.join(", ") : "(nothing: first step)"}; ${t.timing}`);
    if (t.guard) lines.push(`       guard: ${t.guard}`);
    if (t.revalidate) lines.push(`       [REVALIDATE: ${t.revalidate}]`);
    lines.push(`       on failure: ${t.onFailure}`);
  }
}

function renderStep(step: PlanStep, n: number, lines: string[]): void {
  lines.push(`${String(n).padStart(3)}. ${step.verb.padEnd(5)} ${step.name}${marks(step)}`);
  lines.push(`       ${step.summary}`);
  lines.push(`       $ ${step.create}`);
  lines.push(
    `       after: ${step.dependsOn.length ? step.dependsOn.join(", ") : "(nothing: first step)"}; ${timing(step)}`,
  );
  if (step.parallelWith.length) lines.push(`       in parallel with: ${step.parallelWith.join(", ")}`);
  if (step.guard) lines.push(`       guard: ${step.guard}`);
  if (step.revalidate) lines.push(`       [REVALIDATE: ${step.revalidate}]`);
  lines.push(`       on failure: ${onFailureOf(step)}`);
}

export function renderText(plan: Plan): string {
  const lines: string[] = [];
  const count = plan.steps.length;
  lines.push(`coldstart plan -- stack ${plan.stack}, mode ${plan.mode}, window ${plan.window}`);
  lines.push(`${count} steps in ${plan.stages.length} stages; each stage starts only after the previous stage's gate.`);
  lines.push(
    "A step that fails stops the run (steps already running finish); `pulumi up` again with the same window resumes at it, keeping what passed.",
  );
  let n = 0;
  for (const stage of plan.stages) {
    lines.push("");
    lines.push(`== ${stage.title}  (${stage.runbook})`);
    const steps = stage.steps.map((name) => plan.steps.find((s) => s.name === name)!);
    const group = hostGroup(steps);
    let grouped = false;
    for (const step of steps) {
      if (group?.steps.includes(step)) {
        // the whole group where its first step would be
        if (!grouped) {
          renderGroup(group, n + 1, lines);
          n += group.steps.length;
          grouped = true;
        }
        continue;
      }
      renderStep(step, ++n, lines);
    }
  }
  return lines.join("\n") + "\n";
}
