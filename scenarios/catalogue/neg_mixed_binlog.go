package catalogue

import (
	"time"

	"github.com/regify-verify/regify-verify/harness"
	"github.com/regify-verify/regify-verify/scenarios"
	"github.com/regify-verify/regify-verify/scenarios/check"
)

// NegMixedBinlog: both masters log MIXED instead of ROW. Replication runs,
// and the settings check must say why that is not a master-master setup
// to trust.
func NegMixedBinlog() scenarios.Scenario {
	s := negative("neg-mixed-binlog", "Broken on purpose: both masters log binlog_format = MIXED instead of ROW.",
		func(o *harness.Options) { o.DB.MixedBinlog = true }, check.NameReplicationSettings)
	s.NeedsDatabase = true
	s.ConvergeBound = 5 * time.Second
	return s
}

func init() { register(328, NegMixedBinlog) }
