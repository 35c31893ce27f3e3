package lb

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
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
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(bc, tc.Conn)
		if cw, ok := bc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	_, _ = io.Copy(tc.Conn, bc)
	if cw, ok := tc.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// The backend finished; do not wait on a client that keeps its half open.
	tc.Conn.Close()
	<-done
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
