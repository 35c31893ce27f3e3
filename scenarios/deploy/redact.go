package deploy

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// RedactDSN returns a DSN fit for output: the password replaced by ***.
// A DSN that does not parse is shown as a placeholder, never as it is.
func RedactDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	user := cfg.User
	if cfg.Passwd != "" {
		user += ":***"
	}
	return user + "@" + cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
}

// redactText removes every secret of d from s: a driver error or a hook's
// output might quote one.
func redactText(d *Deployment, s string) string {
	var secrets []string
	if d.Session.Password != "" && d.Session.Password != DefaultPassword {
		secrets = append(secrets, d.Session.Password)
	}
	for _, a := range d.Session.Flow.Accounts {
		secrets = append(secrets, a.Password)
	}
	if db := d.Database; db != nil {
		for _, dsn := range []string{db.A, db.B} {
			if cfg, err := mysql.ParseDSN(dsn); err == nil && cfg.Passwd != "" {
				secrets = append(secrets, cfg.Passwd)
			}
			secrets = append(secrets, dsn)
		}
	}
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}
