#!/bin/sh
# Run in Stryker's sandbox before its build (package.json mutation:build). The sandbox is a copy of
# the checkout with two differences that make tests fail in the initial run:
# - Stryker makes it 0700: a test that runs bin/coldstart as nobody (a root test machine's stand-in
#   for an operator's account, test/record/step-record.test.ts) cannot reach it;
# - Stryker copies symlinks as files: the sim's tool links (sim/bin/juju -> sim-tool, ...) become
#   copies, and test/sim/processes.test.ts checks they are links.
set -eu
chmod 755 .
for tool in juju openstack virsh; do
  ln -sf sim-tool "sim/bin/$tool"
done
