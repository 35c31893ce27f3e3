package faults

import (
	"context"
	"errors"

	"github.com/regify-verify/regify-verify/harness/links"
)

// Unsupported is the Env of an environment the harness did not build (an
// operator's deployment): it can break nothing itself, so every call fails
// with Why. Hooks, which need no Env, are the faults such an environment
// runs.
type Unsupported struct{ Why string }

func (u Unsupported) err() error { return errors.New(u.Why) }

func (u Unsupported) CrashProvider(context.Context, string) error       { return u.err() }
func (u Unsupported) RestartProvider(context.Context, string) error     { return u.err() }
func (u Unsupported) HangProvider(context.Context, string, bool) error  { return u.err() }
func (u Unsupported) PauseProvider(context.Context, string, bool) error { return u.err() }
func (u Unsupported) StopBalancer(context.Context) error                { return u.err() }
func (u Unsupported) StartBalancer(context.Context) error               { return u.err() }
func (u Unsupported) BalancerLinks(string) []string                     { return nil }
func (u Unsupported) DatabaseLink(string) string                        { return "" }
func (u Unsupported) ClearingLinks(int) []string                        { return nil }
func (u Unsupported) CutLink(string) error                              { return u.err() }
func (u Unsupported) RestoreLink(string) error                          { return u.err() }
func (u Unsupported) AddToxic(string, links.Toxic) error                { return u.err() }
func (u Unsupported) RemoveToxic(context.Context, string, string) error { return u.err() }
func (u Unsupported) Database() (DB, error)                             { return nil, u.err() }

var _ Env = Unsupported{}
