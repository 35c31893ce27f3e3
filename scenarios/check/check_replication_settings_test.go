package check

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/regify-verify/regify-verify/history"
	"github.com/regify-verify/regify-verify/reports"
)

func TestReplicationSettings(t *testing.T) {
	good := func() (history.ServerSettings, history.ServerSettings) {
		return history.ServerSettings{ServerID: 1, GTIDDomainID: 1, MariaDB: true, BinlogFormat: "ROW", LogSlaveUpdates: true},
			history.ServerSettings{ServerID: 2, GTIDDomainID: 2, MariaDB: true, BinlogFormat: "ROW", LogSlaveUpdates: true}
	}
	judge := func(oneWay bool, mod func(a, b *history.ServerSettings)) reports.Invariant {
		a, b := good()
		if mod != nil {
			mod(&a, &b)
		}
		h := &history.History{Final: history.Final{DB: &history.DBState{OneWay: oneWay, Sides: []history.DBSide{
			{Name: "a", Reachable: true, Settings: &a}, {Name: "b", Reachable: true, Settings: &b}}}}}
		return ReplicationSettings{}.Check(h)
	}
	cases := []struct {
		name    string
		oneWay  bool
		mod     func(a, b *history.ServerSettings)
		verdict reports.Verdict
		words   string
	}{
		{"a good pair", false, nil, reports.Pass, "server_id 1/2, gtid_domain_id 1/2, binlog_format ROW, log_slave_updates ON, read_only OFF"},
		{"same server_id", false, func(a, b *history.ServerSettings) { b.ServerID = 1 }, reports.Fail, "server_id is 1 on a and on b: each master needs its own (set server_id = 2 on b)"},
		{"same GTID domain", false, func(a, b *history.ServerSettings) { b.GTIDDomainID = 1 }, reports.Fail, "gtid_domain_id is 1 on a and on b"},
		{"same GTID domain, one-way: not judged", true, func(a, b *history.ServerSettings) { b.GTIDDomainID = 1 }, reports.Pass, "one-way"},
		{"MySQL has no GTID domains", false, func(a, b *history.ServerSettings) {
			a.MariaDB, b.MariaDB, a.GTIDDomainID, b.GTIDDomainID = false, false, 0, 0
		}, reports.Pass, "server_id 1/2, binlog_format ROW"},
		{"statement logging", false, func(a, b *history.ServerSettings) { a.BinlogFormat, b.BinlogFormat = "MIXED", "MIXED" }, reports.Fail, "binlog_format is MIXED on a (MIXED on b): want ROW"},
		{"no log_slave_updates", false, func(a, b *history.ServerSettings) { b.LogSlaveUpdates = false }, reports.Fail, "log_slave_updates is OFF on b"},
		{"read-only master", false, func(a, b *history.ServerSettings) { a.ReadOnly = true }, reports.Fail, "read_only is ON on a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := judge(tc.oneWay, tc.mod)
			assert.Equal(t, tc.verdict, v.Verdict, v.Summary)
			assert.Contains(t, v.Summary+"\n"+strings.Join(v.Evidence, "\n"), tc.words)
		})
	}
	assert.Equal(t, reports.Skip, ReplicationSettings{}.Check(&history.History{}).Verdict)
	h := &history.History{Final: history.Final{DB: &history.DBState{Sides: []history.DBSide{{Name: "a"}, {Name: "b"}}}}}
	assert.Equal(t, reports.Skip, ReplicationSettings{}.Check(h).Verdict, "settings not read")
}
