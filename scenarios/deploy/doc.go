// Package target judges a real deployment — the operator's own balancer
// (HAProxy, nginx, F5 …), two provider appliances and a MySQL/MariaDB
// master-master pair — with the same invariants as the lab.
//
// A deployment file (YAML, see examples/deployment.yaml) says where the
// public names are served, which local addresses the simulated users send
// from, how the harness gets a session and, optionally, where the two
// databases are and which operator hooks may break something. Parse reads
// and validates it; every error names the key and the line.
//
// Check is non-destructive unless Options.AllowFaults is set: TLS and
// redirect probes per name, load from many source IPs, and read-mostly
// database checks (the heartbeat table it writes is its own, created and
// dropped by it). Faults run only through the operator's hooks, and a
// recover hook always runs. Plan lists what Check would do without touching
// anything (--dry-run).
package deploy
