package harness

import (
	"context"
	"fmt"

	"github.com/regify-verify/regify-verify/harness/mariadb"
)

// A negative control's deliberately wrong pair (equal auto-increment
// offsets, MIXED binlogs, no replica triggers, one-way replication) differs
// from the lab's usual pair only in settings a running server takes
// without a restart. So a PairPool does not start one: it shapes an idle
// usual pair into it (SET GLOBAL, replica threads restarted so that their
// sessions take the new values, side a's replica stopped for one way),
// and shapes it back when the scenario returns it. Starting one took 3-5 s
// of its lane beside the other scenarios; shaping takes milliseconds.

// pairConfig is the servers' configuration for o: the lab's defaults
// with o's deliberate deviations.
func pairConfig(o PairOptions) mariadb.Config {
	cfg := mariadb.Config{}.Defaults()
	if o.EqualAutoIncrement {
		cfg.AutoIncrementOffset = [2]int{1, 1}
	}
	if o.MixedBinlog {
		cfg.BinlogFormat = "MIXED"
	}
	if o.NoReplicaTriggers {
		cfg.ReplicaTriggers = "NO" // the negative control of split-brain
	}
	return cfg
}

// usual is o without the deviations that shaping can give a running pair.
func (o PairOptions) usual() PairOptions {
	o.EqualAutoIncrement, o.MixedBinlog, o.NoReplicaTriggers, o.OneWay = false, false, false, false
	return o
}

// shapeVariables are the server variables shape sets, in the order of
// the values shapeValues gives.
var shapeVariables = [...]string{"auto_increment_increment", "auto_increment_offset", "binlog_format", "slave_run_triggers_for_rbr"}

// shapeValues are numbers and words, so that the driver writes them into
// SET GLOBAL as the server wants them (a number unquoted).
func shapeValues(cfg mariadb.Config, s mariadb.Side) [len(shapeVariables)]any {
	return [...]any{cfg.AutoIncrementIncrement, cfg.AutoIncrementOffset[s], cfg.BinlogFormat, cfg.ReplicaTriggers}
}

// shapeable reports whether shape can give this pair other settings: its
// masters are MariaDB (MySQL has no slave_run_triggers_for_rbr).
func (p *Pair) shapeable() bool { return p.baseline[0].MariaDB && p.baseline[1].MariaDB }

// shape gives a pooled pair o's settings: every variable of o's configuration
// on both masters, MASTER_DELAY 0, and both replicas running, except side
// a's when o is one way. It reads each variable back. The pair's options
// become o.
func (p *Pair) shape(ctx context.Context, o PairOptions) error {
	cfg := pairConfig(o)
	for _, s := range mariadb.Sides {
		if err := p.shapeSide(ctx, s, cfg, o.OneWay && s == mariadb.A); err != nil {
			return fmt.Errorf("shape the mariadb pair: %w", err)
		}
	}
	// The harness's own connections kept the session values they took
	// when they connected: let them go, so that its writes (heartbeats,
	// a fault's conflicting row) follow the new settings too.
	for _, s := range mariadb.Sides {
		if db, err := p.Observer().DB(ctx, s); err == nil {
			db.SetMaxIdleConns(0)
			db.SetMaxIdleConns(2) // database/sql's default
		}
	}
	p.cfg, p.opts, p.shaped = cfg, o, o != o.usual()
	return nil
}

// reshape gives side s, restarted by a fault, the settings the pair was
// shaped to: it came back with its configuration file's.
func (p *Pair) reshape(ctx context.Context, s mariadb.Side) error {
	if !p.shaped {
		return nil
	}
	if err := p.shapeSide(ctx, s, p.cfg, p.opts.OneWay && s == mariadb.A); err != nil {
		return fmt.Errorf("shape restarted master %s again: %w", s, err)
	}
	return nil
}

// shapeSide stops side s's replica, sets cfg's variables and no delay,
// reads them back and starts the replica again unless stopped is asked.
func (p *Pair) shapeSide(ctx context.Context, s mariadb.Side, cfg mariadb.Config, stopped bool) error {
	db, err := p.Observer().DB(ctx, s)
	if err != nil {
		return err
	}
	exec := func(q string, args ...any) error {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("master %s: %s: %w", s, q, err)
		}
		return nil
	}
	if err := exec("STOP SLAVE"); err != nil {
		return err
	}
	want := shapeValues(cfg, s)
	for i, v := range shapeVariables {
		if err := exec("SET GLOBAL "+v+" = ?", want[i]); err != nil {
			return err
		}
	}
	if err := exec("CHANGE MASTER TO MASTER_DELAY = 0"); err != nil {
		return err
	}
	var got [len(shapeVariables)]string
	var wantText [len(shapeVariables)]string
	for i, v := range want {
		wantText[i] = fmt.Sprint(v)
	}
	if err := db.QueryRowContext(ctx, "SELECT @@global.auto_increment_increment, @@global.auto_increment_offset, @@global.binlog_format, @@global.slave_run_triggers_for_rbr").
		Scan(&got[0], &got[1], &got[2], &got[3]); err != nil {
		return fmt.Errorf("master %s: read the settings back: %w", s, err)
	}
	if got != wantText {
		return fmt.Errorf("master %s: %v are %v after setting them to %v", s, shapeVariables, got, wantText)
	}
	if stopped {
		return nil
	}
	return exec("START SLAVE")
}
