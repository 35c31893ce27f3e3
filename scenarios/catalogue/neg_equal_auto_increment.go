package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegEqualAutoIncrement: both masters hand out the same ids.
func NegEqualAutoIncrement() scenarios.Scenario {
	s := negative("neg-equal-auto-increment", "Broken on purpose: both masters use the same auto-increment offset, so ids collide.",
		func(o *harness.Options) { o.DB.EqualAutoIncrement = true }, check.NameAutoIncrement)
	s.NeedsDatabase = true
	s.ConvergeBound = 3 * time.Second // colliding ids stop replication: it never converges
	return s
}

func init() { register(320, NegEqualAutoIncrement) }
