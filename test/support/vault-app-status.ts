/**
 * `juju status <vault app> --format=json` of a one-unit Vault that restarted sealed: hand-made (no
 * recorded vault app status), the message verbatim from the charm (openstack/charm-vault
 * src/reactive/vault_handlers.py `_assess_status`: "Unit is sealed"). Shared by the vault step tests.
 */
export function sealedVaultAppStatus(unit: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: { name: "openstack" },
    machines: {},
    applications: {
      vault: {
        "application-status": { current: "blocked", message: "Unit is sealed" },
        units: {
          "vault/0": {
            "workload-status": { current: "blocked", message: "Unit is sealed" },
            "juju-status": { current: "idle" },
            leader: true,
            machine: "0/lxd/4",
            ...unit,
          },
        },
      },
    },
  });
}
