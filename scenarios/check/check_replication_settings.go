package check

import (
	"fmt"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

// NameReplicationSettings is the canonical name of the replication-settings
// invariant.
const NameReplicationSettings = "replication-settings"

func init() {
	register(Spec{
		Name: NameReplicationSettings, Rank: 95, Lab: true, Deployment: FromHistory,
		Summary:  "the masters are set up for master-master: distinct server_id, distinct gtid_domain_id (MariaDB), binlog_format ROW, log_slave_updates ON, neither read_only",
		Needs:    NeedsDatabase,
		Negative: []string{"neg-mixed-binlog"},
		New:      func(Bounds) Invariant { return ReplicationSettings{} },
	})
}

// ReplicationSettings judges the pair's settings up front, before anything
// breaks because of them: each master needs its own server_id; MariaDB's
// multi-primary rule wants each master that takes writes in its own GTID
// domain; row-based logging replicates what was written, not a statement
// to run again; log_slave_updates keeps every change in every binary log;
// a read_only master cannot take the writes its provider sends. In a
// one-way setup (master and slave) only the server ids, the log format and
// log_slave_updates are judged. Each finding names the setting, both
// values and the fix.
type ReplicationSettings struct{}

// Name implements Invariant.
func (ReplicationSettings) Name() string { return NameReplicationSettings }

// Check implements Invariant.
func (ReplicationSettings) Check(h *history.History) reports.Invariant {
	db := h.Final.DB
	if db == nil || len(db.Sides) != 2 {
		return skip("no final database state in the history")
	}
	a, b := db.Sides[0], db.Sides[1]
	if a.Settings == nil || b.Settings == nil {
		return skip("the servers' settings were not read (a side unreachable, or a history from before they were recorded)")
	}
	sa, sb := a.Settings, b.Settings
	var ev evidence
	if sa.ServerID == sb.ServerID {
		ev.addf("server_id is %d on %s and on %s: each master needs its own (set server_id = %d on %s)", sa.ServerID, a.Name, b.Name, sa.ServerID+1, b.Name)
	}
	if !db.OneWay && sa.MariaDB && sb.MariaDB && sa.GTIDDomainID == sb.GTIDDomainID {
		ev.addf("gtid_domain_id is %d on %s and on %s: MariaDB wants each master that takes writes in its own GTID domain (set gtid_domain_id = %d on %s)",
			sa.GTIDDomainID, a.Name, b.Name, sa.GTIDDomainID+1, b.Name)
	}
	for _, s := range []history.DBSide{a, b} {
		st := s.Settings
		if st.BinlogFormat != "ROW" {
			ev.addf("binlog_format is %s on %s (%s on %s): want ROW, so the binary log carries the rows written, not statements to run again (set binlog_format = ROW)",
				orNone(st.BinlogFormat), s.Name, orNone(other(a, b, s).Settings.BinlogFormat), other(a, b, s).Name)
		}
		if !st.LogSlaveUpdates {
			ev.addf("log_slave_updates is OFF on %s: replicated changes are missing from its binary log (set log_slave_updates = ON)", s.Name)
		}
		if !db.OneWay && st.ReadOnly {
			ev.addf("read_only is ON on %s: its provider's writes are refused (set read_only = OFF on both masters)", s.Name)
		}
	}
	if ev.count() > 0 {
		return fail(&ev, "%d replication settings are wrong for a master-master pair", ev.count())
	}
	dom := ""
	if sa.MariaDB && sb.MariaDB {
		dom = fmt.Sprintf(", gtid_domain_id %d/%d", sa.GTIDDomainID, sb.GTIDDomainID)
	}
	ro := ", read_only OFF"
	if db.OneWay {
		ro = " (one-way: gtid_domain_id and read_only not judged)"
	}
	return pass("server_id %d/%d%s, binlog_format ROW, log_slave_updates ON%s", sa.ServerID, sb.ServerID, dom, ro)
}

func other(a, b, s history.DBSide) history.DBSide {
	if s.Name == a.Name {
		return b
	}
	return a
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
