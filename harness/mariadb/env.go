package mariadb

import "os"

// PrepareEnv sets what testcontainers-go reads once per process, before its
// first call: the reaper off (its image cannot be pulled without a registry;
// cleanup is ours) and, when this process runs inside a container
// (/.dockerenv exists) and nothing says otherwise, the Docker host address
// 127.0.0.1 (testcontainers' guess there is wrong and mapped ports are
// refused). CLI main and TestMain call it first; the docker backend calls it
// too, which is enough only if nothing touched testcontainers before.
func PrepareEnv() {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") != "true" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		if _, err := os.Stat("/.dockerenv"); err == nil {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	}
}
