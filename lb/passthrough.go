package lb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// servePassthrough is the seed's "without SSL offloading": bytes go to the
// pinned backend untouched, TLS ends at the provider. With PROXY protocol
// the provider still learns the client's address.
func (bl *Balancer) servePassthrough(st *listenerState, tc *trackedConn) {
	var client netip.AddrPort
	if ap, err := netip.ParseAddrPort(tc.RemoteAddr().String()); err == nil {
		client = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	var local netip.AddrPort
	if ap, err := netip.ParseAddrPort(tc.LocalAddr().String()); err == nil {
		local = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	var bc net.Conn
	avoid := -1
	for attempt := 0; attempt < 3; attempt++ {
		be, _ := st.pool.pick(client.Addr(), "", avoid)
		if be == nil {
			bl.log.Warn("passthrough: no healthy backend", "listener", st.cfg.Name, "client", client.String())
			return
		}
		ctx, cancel := context.WithTimeout(bl.connCtx, bl.cfg.Timeouts.Connect)
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", be.Address)
		cancel()
		if err != nil {
			if !bl.cfg.Broken.NoHealthChecks {
				be.markResult(false, err.Error(), bl.cfg.HealthCheck.Rise, bl.cfg.HealthCheck.Fall, true)
			}
			if bl.cfg.Broken.NoHealthChecks {
				return // no redispatch without health checks
			}
			avoid = be.idx
			continue
		}
		be.served.Add(1)
		if bl.cfg.AccessLog {
			bl.log.Info("passthrough", "client", client.String(), "listener", st.cfg.Name, "backend", be.Name, "provider", be.Provider)
		}
		bc = c
		break
	}
	if bc == nil {
		return
	}
	defer bc.Close()
	tc.setPeer(bc)
	if st.cfg.ProxyProtocol != 0 {
		hdr := proxyHeader(st.cfg.ProxyProtocol, client, local)
		if _, err := bc.Write(hdr); err != nil {
			return
		}
	}
	// Either direction ending in an error (the link went idle, a reset, a
	// hard shutdown) ends both: a half that can no longer move is not kept.
	link := newIdleLink(bl.cfg.Timeouts.PassthroughIdle, time.Now())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := link.pipe(bc, tc.Conn); err != nil {
			bl.passthroughEnded(st, client, "client to backend", err)
			tc.Conn.Close()
			bc.Close()
			return
		}
		if cw, ok := bc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	if err := link.pipe(tc.Conn, bc); err != nil {
		bl.passthroughEnded(st, client, "backend to client", err)
		bc.Close()
	} else if cw, ok := tc.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// The backend finished; do not wait on a client that keeps its half open.
	tc.Conn.Close()
	<-done
}

func (bl *Balancer) passthroughEnded(st *listenerState, client netip.AddrPort, dir string, err error) {
	if errors.Is(err, errPassthroughIdle) {
		bl.log.Info("passthrough: closed idle connection", "listener", st.cfg.Name, "client", client.String(), "err", err)
		return
	}
	bl.log.Debug("passthrough: connection ended", "listener", st.cfg.Name, "client", client.String(), "direction", dir, "err", err)
}

var errPassthroughIdle = errors.New("passthrough connection idle")

// idleLink is the shared clock of one passthrough connection. Both
// directions note every byte they move; a direction whose deadline fires
// gives up only when neither direction has moved for the whole timeout, so
// an upload waiting on a long download (or the other way round) is never
// cut, while a connection where nothing moves is closed after d.
//
// Unlike pace (proxy_h1.go), which bounds each side of one body transfer
// separately, the deadline here belongs to the pair of directions.
type idleLink struct {
	d    time.Duration
	last atomic.Int64 // unix nanoseconds of the last byte moved either way
}

func newIdleLink(d time.Duration, now time.Time) *idleLink {
	l := &idleLink{d: d}
	l.last.Store(now.UnixNano())
	return l
}

// expiry is when the link is idle if nothing moves before then.
func (l *idleLink) expiry() time.Time { return time.Unix(0, l.last.Load()).Add(l.d) }

// stillAlive decides after a deadline fired: if the other direction moved
// meanwhile, it returns the deadline to wait for next.
func (l *idleLink) stillAlive(now time.Time) (time.Time, bool) {
	exp := l.expiry()
	return exp, exp.After(now)
}

// pipe copies src to dst until src ends (nil), the link goes idle
// (errPassthroughIdle) or either side fails. Its own progress pushes its
// deadlines out only when less than half is left, so a fast stream costs a
// clock read per buffer and no syscalls; a deadline that fires while the
// other direction moved is moved to the link's expiry.
func (l *idleLink) pipe(dst, src net.Conn) error {
	buf := make([]byte, 32<<10)
	var wAt time.Time
	rAt := l.expiry()
	if err := src.SetReadDeadline(rAt); err != nil {
		return fmt.Errorf("passthrough read deadline: %w", err)
	}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			now := time.Now()
			l.last.Store(now.UnixNano())
			if rAt.Sub(now) < l.d/2 {
				rAt = now.Add(l.d)
				if err := src.SetReadDeadline(rAt); err != nil {
					return fmt.Errorf("passthrough read deadline: %w", err)
				}
			}
			if wAt.Sub(now) < l.d/2 {
				wAt = now.Add(l.d)
				if err := dst.SetWriteDeadline(wAt); err != nil {
					return fmt.Errorf("passthrough write deadline: %w", err)
				}
			}
			for off := 0; off < n; {
				m, werr := dst.Write(buf[off:n])
				off += m
				if m > 0 {
					l.last.Store(time.Now().UnixNano())
				}
				if werr == nil {
					continue
				}
				if !errors.Is(werr, os.ErrDeadlineExceeded) {
					return fmt.Errorf("passthrough write: %w", werr)
				}
				next, ok := l.stillAlive(time.Now())
				if !ok {
					return fmt.Errorf("%w: no byte either way for %v (write blocked)", errPassthroughIdle, l.d)
				}
				wAt = next
				if err := dst.SetWriteDeadline(wAt); err != nil {
					return fmt.Errorf("passthrough write deadline: %w", err)
				}
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			return nil
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			next, ok := l.stillAlive(time.Now())
			if !ok {
				return fmt.Errorf("%w: no byte either way for %v", errPassthroughIdle, l.d)
			}
			rAt = next
			if err := src.SetReadDeadline(rAt); err != nil {
				return fmt.Errorf("passthrough read deadline: %w", err)
			}
		default:
			return fmt.Errorf("passthrough read: %w", rerr)
		}
	}
}

var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// proxyHeader builds a PROXY protocol v1 (text) or v2 (binary) header.
func proxyHeader(version int, src, dst netip.AddrPort) []byte {
	is4 := src.Addr().Is4() && dst.Addr().Is4()
	if version == 1 {
		fam := "TCP6"
		if is4 {
			fam = "TCP4"
		}
		if !src.IsValid() || !dst.IsValid() || src.Addr().Is4() != dst.Addr().Is4() {
			return []byte("PROXY UNKNOWN\r\n")
		}
		return fmt.Appendf(nil, "PROXY %s %s %s %s %s\r\n", fam, src.Addr(), dst.Addr(),
			strconv.Itoa(int(src.Port())), strconv.Itoa(int(dst.Port())))
	}
	b := append([]byte(nil), proxyV2Sig...)
	b = append(b, 0x21) // version 2, PROXY command
	if is4 {
		b = append(b, 0x11) // TCP over IPv4
		b = binary.BigEndian.AppendUint16(b, 12)
		s, d := src.Addr().As4(), dst.Addr().As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	} else {
		b = append(b, 0x21) // TCP over IPv6
		b = binary.BigEndian.AppendUint16(b, 36)
		s, d := src.Addr().As16(), dst.Addr().As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	return b
}
