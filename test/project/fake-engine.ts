/**
 * A minimal stand-in for the Pulumi engine's two gRPC services, enough for
 * `@pulumi/pulumi/cmd/run` to run a program to the end (the technique in
 * /work/shared/pulumi-mechanics.md, last section):
 * - ResourceMonitor: supportsFeature -> true; registerResource -> a URN built like the engine's
 *   (`urn:pulumi:<stack>::<project>::<parentType$>type::name`), an id unless dry-run, and the
 *   inputs echoed back as outputs; registerResourceOutputs and signalAndWaitForShutdown -> empty.
 *   Every other method answers UNIMPLEMENTED (grpc-js's default), which this program never needs.
 * - Engine: log (recorded), getRootResource / setRootResource (the Stack resource's URN).
 * Service definitions come from the SDK's own generated code (@pulumi/pulumi/proto/*_grpc_pb.js).
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import {
  GetRootResourceResponse,
  LogSeverity,
  SetRootResourceResponse,
  type GetRootResourceRequest,
  type LogRequest,
  type SetRootResourceRequest,
} from "@pulumi/pulumi/proto/engine_pb";
import { ResourceMonitorService } from "@pulumi/pulumi/proto/resource_grpc_pb";
import {
  RegisterResourceResponse,
  SupportsFeatureResponse,
  type RegisterResourceRequest,
  type SupportsFeatureRequest,
} from "@pulumi/pulumi/proto/resource_pb";

export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  urn: string;
}

export interface EngineLog {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
}

export interface FakeEngine {
  /** host:port for both `--monitor` and `--engine`. */
  address: string;
  registrations: Registration[];
  logs: EngineLog[];
  close(): Promise<void>;
}

const SEVERITY: Record<number, EngineLog["severity"]> = {
  [LogSeverity.DEBUG]: "debug",
  [LogSeverity.INFO]: "info",
  [LogSeverity.WARNING]: "warning",
  [LogSeverity.ERROR]: "error",
};

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

export async function startFakeEngine(opts: { project: string; stack: string; dryRun: boolean }): Promise<FakeEngine> {
  const registrations: Registration[] = [];
  const logs: EngineLog[] = [];
  let rootUrn = "";

  const supportsFeature: Unary<SupportsFeatureRequest, SupportsFeatureResponse> = (_call, cb) =>
    cb(null, new SupportsFeatureResponse().setHassupport(true));
  const registerResource: Unary<RegisterResourceRequest, RegisterResourceResponse> = (call, cb) => {
    const req = call.request;
    // The parent's URN ends in `::<qualified type>::<name>`; a child's type is qualified by it.
    const parentType = req.getParent() ? req.getParent().split("::").slice(-2)[0] : "";
    const type = parentType ? `${parentType}$${req.getType()}` : req.getType();
    const urn = `urn:pulumi:${opts.stack}::${opts.project}::${type}::${req.getName()}`;
    registrations.push({ type: req.getType(), name: req.getName(), custom: req.getCustom(), urn });
    const res = new RegisterResourceResponse().setUrn(urn).setObject(req.getObject());
    if (req.getCustom() && !opts.dryRun) res.setId(`id-${req.getName()}`);
    cb(null, res);
  };
  const empty: Unary<unknown, Empty> = (_call, cb) => cb(null, new Empty());

  const log: Unary<LogRequest, Empty> = (call, cb) => {
    logs.push({ severity: SEVERITY[call.request.getSeverity()] ?? "info", message: call.request.getMessage() });
    cb(null, new Empty());
  };
  const getRootResource: Unary<GetRootResourceRequest, GetRootResourceResponse> = (_call, cb) =>
    cb(null, new GetRootResourceResponse().setUrn(rootUrn));
  const setRootResource: Unary<SetRootResourceRequest, SetRootResourceResponse> = (call, cb) => {
    rootUrn = call.request.getUrn();
    cb(null, new SetRootResourceResponse());
  };

  const server = new grpc.Server();
  server.addService(ResourceMonitorService, {
    supportsFeature,
    registerResource,
    registerResourceOutputs: empty,
    signalAndWaitForShutdown: empty,
  } as grpc.UntypedServiceImplementation);
  server.addService(EngineService, { log, getRootResource, setRootResource } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    registrations,
    logs,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
