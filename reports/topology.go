package reports

import (
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
)

// topologySVG draws the seed's diagram with the addresses the scenario ran
// on: clients → public IPs (one per name) → balancer → providers with their
// internal IPs per tenant → the MariaDB master-master pair, and the clearing
// links. id keeps the arrow marker unique on a page with several drawings.
func topologySVG(t *Topology, id string) template.HTML {
	const W = 920
	var b strings.Builder
	type box struct{ x, y, w, h float64 }
	mid := func(bx box) float64 { return bx.x + bx.w/2 }
	row := func(n int, w, y, h float64, left, right float64) []box {
		out := make([]box, n)
		span := right - left
		for i := range out {
			cx := left + span*(float64(i)+0.5)/float64(n)
			out[i] = box{cx - w/2, y, w, h}
		}
		return out
	}
	drawBox := func(bx box, class string, lines ...string) {
		fmt.Fprintf(&b, `<rect class="%s" x="%.0f" y="%.0f" width="%.0f" height="%.0f" rx="6"/>`, class, bx.x, bx.y, bx.w, bx.h)
		for i, l := range lines {
			cls := "tl"
			if i == 0 {
				cls = "th"
			}
			fmt.Fprintf(&b, `<text class="%s" x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, cls, mid(bx), bx.y+17+float64(i)*15, esc(l))
		}
	}
	arrow := func(x1, y1, x2, y2 float64, class string, both bool) {
		start := ""
		if both {
			start = fmt.Sprintf(` marker-start="url(#%s-a)"`, id)
		}
		fmt.Fprintf(&b, `<line class="%s" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" marker-end="url(#%s-a)"%s/>`, class, x1, y1, x2, y2, id, start)
	}

	tenants := make([]string, 0, len(t.Domains))
	for _, d := range t.Domains {
		tenants = append(tenants, d.Name)
	}
	var extra []string
	for _, p := range t.Providers {
		for tn := range p.Internal {
			if !slices.Contains(tenants, tn) && !slices.Contains(extra, tn) {
				extra = append(extra, tn)
			}
		}
	}
	sort.Strings(extra)
	tenants = append(tenants, extra...)
	maxTenants := 1
	for _, p := range t.Providers {
		maxTenants = max(maxTenants, len(p.Internal))
	}

	yClients, yDomains, yLB := 8.0, 78.0, 178.0
	yProv := 250.0
	provH := 26 + 15*float64(maxTenants)
	mode := t.Mode
	if mode == "offload" {
		mode = "SSL offloading"
	}
	lbTitle, lbSub := "balancer: "+orDash(t.Balancer), "mode: "+orDash(mode)
	lbW := min(W-40, max(400, 7.2*float64(max(len([]rune(lbTitle)), len([]rune(lbSub))))+30))

	clients := box{W/2 - 150, yClients, 300, 38}
	domains := row(max(len(t.Domains), 1), 250, yDomains, 68, 60, W-60)
	lb := box{W/2 - lbW/2, yLB, lbW, 38}
	var provs, dbs, clr []box
	var yDB float64
	// The seed's full-redundancy picture: two providers left and right, the
	// clearing links between them, each provider's database below it.
	pair := len(t.Providers) == 2
	if pair {
		clrH := 40*float64(len(t.Clearing)) + 8*float64(max(len(t.Clearing)-1, 0))
		provH = max(provH, clrH)
		provs = []box{{20, yProv, 290, provH}, {W - 310, yProv, 290, provH}}
		for i := range t.Clearing {
			clr = append(clr, box{W/2 - 95, yProv + float64(i)*48, 190, 40})
		}
		yDB = yProv + provH + 50
		for i := range t.Databases {
			x := mid(provs[min(i, 1)]) - 100
			if len(t.Databases) > 2 {
				x = 20 + float64(i)*(W-40)/float64(len(t.Databases))
			}
			dbs = append(dbs, box{x, yDB, 200, 40})
		}
	} else {
		provs = row(max(len(t.Providers), 1), 280, yProv, provH, 20, W-20)
		yDB = yProv + provH + 60
		if len(t.Databases) > 0 {
			dbs = row(len(t.Databases), 190, yDB, 40, 20, W*0.58)
		}
		if len(t.Clearing) > 0 {
			clr = row(len(t.Clearing), 160, yDB, 40, W*0.6, W-10)
		}
	}
	H := yDB + 50
	if len(dbs) == 0 && (pair || len(clr) == 0) {
		H = yProv + provH + 10
	}
	fmt.Fprintf(&b, `<svg class="topo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %.0f" role="img" aria-label="topology">`, W, H)
	fmt.Fprintf(&b, `<defs><marker id="%s-a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#444"/></marker></defs>`, id)

	// Edges first so boxes sit on top of them.
	for _, d := range domains[:len(t.Domains)] {
		arrow(mid(clients), clients.y+clients.h, mid(d), d.y, "edge", false)
		arrow(mid(d), d.y+d.h, mid(lb)+(mid(d)-mid(lb))/3, lb.y, "edge", false)
	}
	for _, p := range provs[:len(t.Providers)] {
		arrow(mid(lb)+(mid(p)-mid(lb))/3, lb.y+lb.h, mid(p), p.y, "edge", false)
	}
	for i, p := range provs[:len(t.Providers)] {
		for j, d := range dbs {
			// Each provider uses its own database when they pair up one to one.
			if len(dbs) == len(t.Providers) && i != j {
				continue
			}
			arrow(mid(p), p.y+p.h, mid(d), d.y, "edge", false)
		}
		for _, c := range clr {
			switch {
			case pair && i == 0:
				arrow(p.x+p.w, c.y+c.h/2, c.x, c.y+c.h/2, "edge clear", false)
			case pair:
				arrow(p.x, c.y+c.h/2, c.x+c.w, c.y+c.h/2, "edge clear", false)
			default:
				arrow(mid(p)+30, p.y+p.h, mid(c), c.y, "edge clear", false)
			}
		}
	}
	for j := 1; j < len(dbs); j++ {
		a, c := dbs[j-1], dbs[j]
		arrow(a.x+a.w+2, a.y+24, c.x-2, c.y+24, "edge repl", true)
		fmt.Fprintf(&b, `<text class="tl" x="%.0f" y="%.0f" text-anchor="middle">master-master replication</text>`, (a.x+a.w+c.x)/2, a.y+14)
	}

	clientsTitle := "clients (one source IP per user)"
	if t.Nodes == "containers" {
		clientsTitle = "clients (one source IP per agent container)"
	}
	drawBox(clients, "node client", clientsTitle, orDash(t.Clients))
	for i, d := range t.Domains {
		drawBox(domains[i], "node public", "public IP "+letter(i)+" · "+d.Name, d.PublicIP, "https "+orDash(d.HTTPS), "http "+orDash(d.HTTP)+" → redirect")
	}
	drawBox(lb, "node lb", lbTitle, lbSub)
	n := 0
	for i, p := range t.Providers {
		lines := []string{"provider " + p.ID}
		for _, tn := range tenants {
			if addr, ok := p.Internal[tn]; ok {
				lines = append(lines, fmt.Sprintf("internal %s · %s · %s", letter(n), tn, addr))
				n++
			}
		}
		drawBox(provs[i], "node provider", lines...)
	}
	for i, d := range t.Databases {
		drawBox(dbs[i], "node db", d.Name, d.Address)
	}
	for i, c := range t.Clearing {
		drawBox(clr[i], "node clearing", c.Name, c.Address)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // all text went through esc
}

// letter names the i-th address the way the seed does: A, B, C, D …
func letter(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("%d", i+1)
}
