/**
 * A small stand-in for the MAAS region API (node:http on 127.0.0.1, a free port), enough for the
 * maas power driver: `{url}/api/2.0/machines/<system_id>/?op=query_power_state|power_on|power_off`.
 *
 * What MAAS does at that door -- the OAuth PLAINTEXT check exactly as piston3 makes it, the routing,
 * MAAS's answers and error bodies -- is sim/maas-api.ts, the same code the drills' simulated MAAS
 * runs. Here only the machines: in-memory records with knobs for the failures MAAS can answer
 * (not allocated, BMC unreachable, a power-off that shows late or is ignored, no answer at all);
 * the node JSON that power_on / power_off return comes from the fixture files.
 */
import type { MaasApiKey } from "../../power/maas-oauth";
import {
  maasReplies,
  serveMaasApi,
  type MaasHttpRequest,
  type MaasNode,
  type MaasPowerCall,
  type MaasPowerState,
  type MaasReply,
} from "../../sim/maas-api";
import { readFixture } from "../fixtures";

export { splitOAuthHeader } from "../../sim/maas-api";
export type { MaasPowerState } from "../../sim/maas-api";

/** The fake API key of fixtures/maas/api-key.split.json (18/18/32, the shape MAAS makes). */
export const FIXTURE_KEY = {
  consumerKey: "Xq7bTzP3kLmN9aBcDe",
  tokenKey: "Fg4HiJk5LmN6oPq7Rs",
  tokenSecret: "Tu8VwXy9Za0Bc1De2Fg3Hi4Jk5Lm6No7",
};
export const FIXTURE_API_KEY = `${FIXTURE_KEY.consumerKey}:${FIXTURE_KEY.tokenKey}:${FIXTURE_KEY.tokenSecret}`;

export interface FakeMachine {
  systemId: string;
  hostname: string;
  power: MaasPowerState;
  /** power_on on a machine nobody allocated: 409 "Can't start node: it hasn't been allocated." */
  allocated: boolean;
  /** false: no rack controller reaches the BMC, every power call is a 503. */
  bmcReachable: boolean;
  /** After a power_off, how many query_power_state answers still say "on" (MAAS updates asynchronously). */
  offAfterPolls: number;
  /** The OS ignores a soft power-off (stop_mode=soft): only a hard one takes the machine down. */
  ignoresSoftOff: boolean;
  /** Answer nothing for this long (to test the client's timeout). */
  hangMs: number;
}

/** A request as the server received it (Authorization header included: tests check it). */
export type RecordedRequest = MaasHttpRequest;

export interface MaasServer {
  /** The MAAS URL as the stack config has it: http://127.0.0.1:<port>/MAAS */
  readonly url: string;
  readonly machines: Map<string, FakeMachine>;
  readonly requests: RecordedRequest[];
  addMachine(m: Partial<FakeMachine> & { systemId: string }): FakeMachine;
  close(): Promise<void>;
}

const fixtureNode = (fixture: "power-on-response.json" | "power-off-response.json"): MaasNode =>
  JSON.parse(readFixture(`maas/${fixture}`)) as MaasNode;

export async function startMaasServer(creds: MaasApiKey = FIXTURE_KEY): Promise<MaasServer> {
  const machines = new Map<string, FakeMachine>();
  const requests: RecordedRequest[] = [];
  /** query_power_state answers left before a pending power-off shows, per machine. */
  const pendingOff = new Map<string, number>();
  const hanging = new Set<NodeJS.Timeout>();

  const powerCall = (systemId: string, call: MaasPowerCall): MaasReply => {
    const machine = machines.get(systemId)!;
    const noBmc = () => maasReplies.noRackController(machine.hostname);
    switch (call.op) {
      case "query_power_state": {
        if (!machine.bmcReachable) return noBmc();
        const left = pendingOff.get(systemId);
        if (left !== undefined) {
          if (left <= 0) {
            machine.power = "off";
            pendingOff.delete(systemId);
          } else pendingOff.set(systemId, left - 1);
        }
        return maasReplies.powerState(machine.power);
      }
      case "power_on":
        if (!machine.allocated) return maasReplies.notAllocated();
        if (!machine.bmcReachable) return noBmc();
        machine.power = "on";
        pendingOff.delete(systemId);
        return maasReplies.node(fixtureNode("power-on-response.json"), machine);
      case "power_off":
        if (!machine.bmcReachable) return noBmc();
        if (!(call.stopMode === "soft" && machine.ignoresSoftOff)) {
          if (machine.offAfterPolls <= 0) machine.power = "off";
          else pendingOff.set(systemId, machine.offAfterPolls);
        }
        // Like MAAS: the node JSON still says "power_state": "on" (fixtures/maas/power-off-response.json).
        return maasReplies.node(fixtureNode("power-off-response.json"), machine);
    }
  };

  const server = await serveMaasApi({
    credentials: creds,
    onRequest: (req) => requests.push(req),
    backend: {
      exists: (systemId) => machines.has(systemId),
      power: (systemId, call) => {
        const hangMs = machines.get(systemId)?.hangMs ?? 0;
        if (hangMs <= 0) return powerCall(systemId, call);
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            hanging.delete(timer);
            resolve(powerCall(systemId, call));
          }, hangMs);
          hanging.add(timer);
        });
      },
    },
  });

  return {
    url: server.url,
    machines,
    requests,
    addMachine: (m) => {
      const machine: FakeMachine = {
        hostname: m.systemId,
        power: "on",
        allocated: true,
        bmcReachable: true,
        offAfterPolls: 0,
        ignoresSoftOff: false,
        hangMs: 0,
        ...m,
      };
      machines.set(machine.systemId, machine);
      return machine;
    },
    close: () => {
      for (const timer of hanging) clearTimeout(timer);
      return server.close();
    },
  };
}
