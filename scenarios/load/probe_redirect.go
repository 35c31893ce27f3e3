package load

import (
	"context"
	"fmt"
	"net/url"

	"github.com/regify-verify/regify-verify/history"
)

// OpRedirectFollow marks the https request that follows a redirect probe's
// Location once, to check the redirect lands on a working https page.
const OpRedirectFollow = history.OpRedirectFollow

// RedirectProbePaths are the paths and queries asked on every http URL. The
// fragment is never sent by a client; it is there to prove that.
var RedirectProbePaths = []string{"/", "/inbox?x=1&y=%2F", "/a/b/c?q=1#frag"}

// ProbeRedirect asks every domain's plain-http URL for RedirectProbePaths
// from up to two source IPs, without following redirects, and records each
// answer (Op redirect-probe, status and Location). A Location is then
// followed once, with certificate verification against cfg.CA, and recorded
// as OpRedirectFollow. Transport errors are recorded, not returned.
func ProbeRedirect(ctx context.Context, cfg Config, sink Sink) error {
	if err := checkProbeConfig(&cfg, "redirect probe"); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	for _, src := range probeSources(&cfg) {
		c := probeClient(&cfg, src)
		for _, d := range cfg.Domains {
			base, err := baseURL(d.HTTP, "http")
			if err != nil {
				return fmt.Errorf("redirect probe of %s: %w", d.Name, err)
			}
			for _, p := range RedirectProbePaths {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("redirect probe of %s: %w", d.Name, err)
				}
				ref, err := url.Parse(p)
				if err != nil {
					return fmt.Errorf("redirect probe path %q: %w", p, err)
				}
				target := base.ResolveReference(ref)
				target.Fragment = "" // never sent: record what was asked on the wire
				rec := probeGet(ctx, c, src, d.Name, target.String(), history.OpRedirect)
				sink.Add(rec)
				if rec.Location == "" {
					continue
				}
				loc, err := target.Parse(rec.Location)
				if err != nil {
					sink.Add(history.Request{User: ProbeUser, SourceIP: rec.SourceIP, Start: rec.Start, Tenant: d.Name,
						Method: "GET", URL: rec.Location, Op: OpRedirectFollow, Err: fmt.Sprintf("parse Location: %v", err)})
					continue
				}
				sink.Add(probeGet(ctx, c, src, d.Name, loc.String(), OpRedirectFollow))
			}
		}
		c.CloseIdleConnections()
	}
	return nil
}
