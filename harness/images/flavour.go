package images

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// CheckMariaDB fails with a clear message when ref is a MySQL image: the
// master-master pair is configured with MariaDB's GTID domains
// (gtid_domain_id, MASTER_USE_GTID), which MySQL refuses at start-up, so the
// server would never get ready and the run would only time out. An image
// that is not present locally passes: the engine pulls it, and its server
// reports what it is when it starts.
func CheckMariaDB(ctx context.Context, cli *client.Client, ref string) error {
	res, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	var env []string
	if res.Config != nil {
		env = res.Config.Env
	}
	return mariaDBFlavour(ref, env)
}

// mariaDBFlavour tells a MySQL image from a MariaDB one by the variables
// the official images set (MYSQL_VERSION and MYSQL_MAJOR against
// MARIADB_VERSION); images that set neither, like the one built here, pass.
func mariaDBFlavour(ref string, env []string) error {
	var mysql, mariadb string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "MYSQL_VERSION", "MYSQL_MAJOR":
			if mysql == "" {
				mysql = v
			}
		case "MARIADB_VERSION", "MARIADB_MAJOR":
			mariadb = v
		}
	}
	if mysql != "" && mariadb == "" {
		return fmt.Errorf("image %s is MySQL %s: the master-master pair needs MariaDB (it uses MariaDB GTID domains); "+
			"pass a MariaDB image (--mariadb-image mariadb:11.4) or leave --mariadb-image out to build one locally; "+
			"a MySQL pair you run yourself can be judged with `regify-verify check`", ref, mysql)
	}
	return nil
}
