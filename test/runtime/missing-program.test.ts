/**
 * A program coldstart needs that is not there (juju, openstack) or an openrc that cannot work is
 * reported at the first poll, with a fix that fits: waiting for the gate's timeout cannot help.
 * The built CLI runs as the engine runs it, with a PATH that has no juju and no openstack.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const NODE = process.execPath;

function step(args: string[]) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-missing-"));
  const r = spawnSync(NODE, [path.join(ROOT, "dist/cli/main.js"), ...args], {
    encoding: "utf8",
    env: { HOME: home, PATH: "/usr/bin:/bin" }, // no juju, no openstack here
    timeout: 60_000,
  });
  return { ...r, home, all: `${r.stdout}${r.stderr}` };
}

describe("a missing program or a broken openrc stops a gate at its first poll", () => {
  it("juju not on PATH: exit 1 after one poll, the fix says to install it, not to check the API", () => {
    const r = step(["gate", "machines-started", "--model", "c:openstack", "--timeout", "10m", "--interval", "5s"]);
    expect(r.status).toBe(1);
    expect(r.all).toMatch(/juju: not found on PATH/);
    expect(r.all).not.toMatch(/poll 2:/);
    expect(r.all).toMatch(/fix: install it on the jumphost/);
    expect(r.all).not.toMatch(/check controller \/ API reachability/);
  });

  it("openstack not on PATH (a good openrc): exit 1 after one poll, naming openstack", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-openrc-"));
    const openrc = path.join(home, "admin-openrc");
    fs.writeFileSync(openrc, "export OS_AUTH_URL=http://keystone:5000/v3\n");
    const r = step(["gate", "guests-active", "--openrc", openrc, "--timeout", "10m", "--interval", "5s"]);
    expect(r.status).toBe(1);
    expect(r.all).toMatch(/openstack: not found on PATH/);
    expect(r.all).not.toMatch(/poll 2:/);
  });

  it("an openrc that sets no OS_AUTH_URL: exit 1 after one poll, naming the file", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-openrc-"));
    const openrc = path.join(home, "admin-openrc");
    fs.writeFileSync(openrc, "# emptied by mistake\n");
    const r = step(["gate", "guests-active", "--openrc", openrc, "--timeout", "10m", "--interval", "5s"]);
    expect(r.status).toBe(1);
    expect(r.all).toContain(`openrc ${openrc}: sets no OS_AUTH_URL`);
    expect(r.all).not.toMatch(/poll 2:/);
  });
});
