package fakeprovider

import (
	"encoding/json"
	"net/http"
)

// Seen is what a request carried when it reached the provider; the JSON
// field names are those of history.Seen.
type Seen struct {
	RemoteAddr      string `json:"remote_addr,omitempty"`
	XForwardedFor   string `json:"x_forwarded_for,omitempty"`
	XForwardedProto string `json:"x_forwarded_proto,omitempty"`
	XForwardedHost  string `json:"x_forwarded_host,omitempty"`
	Forwarded       string `json:"forwarded,omitempty"`
	TLS             bool   `json:"tls"`
}

// maxSeenField bounds what one header may add to the X-Regify-Seen header.
const maxSeenField = 512

// SeenOf reads the forwarding facts of r.
func SeenOf(r *http.Request) Seen {
	return Seen{
		RemoteAddr:      clip(r.RemoteAddr),
		XForwardedFor:   clip(joinHeader(r.Header.Values("X-Forwarded-For"))),
		XForwardedProto: clip(joinHeader(r.Header.Values("X-Forwarded-Proto"))),
		XForwardedHost:  clip(joinHeader(r.Header.Values("X-Forwarded-Host"))),
		Forwarded:       clip(joinHeader(r.Header.Values("Forwarded"))),
		TLS:             r.TLS != nil,
	}
}

// HeaderValue is the compact JSON of the X-Regify-Seen header.
func (s Seen) HeaderValue() string {
	b, err := json.Marshal(s)
	if err != nil {
		return "{}" // cannot happen: plain strings and a bool
	}
	return string(b)
}

func joinHeader(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	out := vs[0]
	for _, v := range vs[1:] {
		out += ", " + v
	}
	return out
}

func clip(s string) string {
	if len(s) > maxSeenField {
		return s[:maxSeenField]
	}
	return s
}
