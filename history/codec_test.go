package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refRequestLine is the reference: encoding/json's bytes for one request line.
func refRequestLine(t testing.TB, r *Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(line{Type: TypeRequest, Request: r}))
	return buf.Bytes()
}

// refDecode is the reference: encoding/json's request from one line.
func refDecode(b []byte) (*Request, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	if l.Type != TypeRequest || l.Request == nil || l.Meta != nil || l.Fault != nil || l.Final != nil {
		return nil, errors.New("not a plain request line")
	}
	return l.Request, nil
}

// fastDecode decodes one line with the fast decoder only.
func fastDecode(b []byte) (*Request, bool) {
	var r Request
	if !newDecoder().requestLine(b, &r) {
		return nil, false
	}
	return &r, true
}

// checkAgainstJSON asserts that the fast codec writes r exactly as
// encoding/json does, reads those bytes back without giving up, and reads
// them as encoding/json does.
func checkAgainstJSON(t *testing.T, r *Request) {
	t.Helper()
	want := refRequestLine(t, r)
	got, ok := appendRequestLine(nil, r)
	require.True(t, ok, "the fast encoder gave up on %+v", r)
	require.Equal(t, string(want), string(got), "bytes differ from encoding/json")
	ref, err := refDecode(want)
	require.NoError(t, err)
	dec, ok := fastDecode(want)
	require.True(t, ok, "the fast decoder gave up on %s", want)
	require.Equal(t, ref, dec, "decoded value differs from encoding/json for %s", want)
}

// fill sets every field reachable from v to a non-zero value, whatever its
// type, so a field added later is exercised without editing this test.
func fill(v reflect.Value, name string, depth int) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 12, 7, 9, 0, 52, 949556496, time.UTC).Add(time.Duration(len(name)) * time.Second)))
		return
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(int64(len(name))*int64(time.Millisecond) + 7)
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("v-" + name + ` "quoted" <&> é 😀 ` + "\t")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(1 + len(name)%100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(1 + len(name)%100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), fmt.Sprintf("%s[%d]", name, i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", name, i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, name+".key", depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, name+".elem", depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		if depth > 3 {
			return // a type that points to itself: stop
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), name, depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), name+"."+v.Type().Field(i).Name, depth+1)
			}
		}
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf("any-" + name))
		}
	}
}

// TestFastCodecCoversRequest fails when a field of Request (or of a struct
// it points to) is not handled by the fast codec exactly as encoding/json
// handles it, or when the codec had to be switched off for Request.
func TestFastCodecCoversRequest(t *testing.T) {
	require.NoError(t, requestCodecErr, "the fast codec cannot mirror Request: every request line now goes through encoding/json (slow). Fix the field or teach codec.go its kind")
	require.NotNil(t, requestCodec)

	// Every exported JSON field of every struct the codec handles is there,
	// in declaration order.
	seen := map[reflect.Type]bool{}
	var walk func(c *structCodec)
	walk = func(c *structCodec) {
		if seen[c.typ] {
			return
		}
		seen[c.typ] = true
		var want []string
		for i := range c.typ.NumField() {
			sf := c.typ.Field(i)
			if sf.IsExported() && sf.Tag.Get("json") != "-" {
				want = append(want, sf.Name)
			}
		}
		var got []string
		for _, f := range c.fields {
			got = append(got, f.goName)
			if f.kind == kindJSON {
				t.Logf("%v.%s (%v) is handed to encoding/json field by field: correct, but slower; give it a kind in codec.go if it is common", c.typ, f.goName, f.typ)
			}
			if f.sub != nil {
				walk(f.sub)
			}
		}
		assert.Equal(t, want, got, "fields of %v covered by the fast codec", c.typ)
	}
	walk(requestCodec)
	for _, typ := range []reflect.Type{reflect.TypeFor[TLSFacts](), reflect.TypeFor[Seen]()} {
		assert.True(t, seen[typ], "%v has its own fast codec", typ)
	}

	// Every field set: same bytes as encoding/json, same value back.
	var all Request
	fill(reflect.ValueOf(&all).Elem(), "r", 0)
	rv := reflect.ValueOf(all)
	for i := range rv.NumField() {
		if rv.Type().Field(i).IsExported() {
			assert.False(t, rv.Field(i).IsZero(), "fill left %s zero", rv.Type().Field(i).Name)
		}
	}
	checkAgainstJSON(t, &all)
	back, ok := fastDecode(refRequestLine(t, &all))
	require.True(t, ok)
	assert.Equal(t, all, *back, "every field reads back as written")

	// Each field alone (the others zero, so omitempty is exercised too).
	for i := range rv.NumField() {
		sf := rv.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		t.Run(sf.Name, func(t *testing.T) {
			var one Request
			reflect.ValueOf(&one).Elem().Field(i).Set(rv.Field(i))
			checkAgainstJSON(t, &one)
		})
	}
}

// randString draws strings that exercise escaping: quotes, backslashes,
// HTML characters, control bytes, multi-byte runes, U+2028/2029, and now
// and then a long one. Always valid UTF-8.
func randString(rng *rand.Rand) string {
	pieces := []string{
		"a", "Z", "0", "u007", "abc.test", "/", "https://abc.test:8443/inbox?x=1&y=2", " ", `"`, `\`, "<", ">", "&",
		"\x00", "\x01", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f", "é", "日本", "😀", "\u2028", "\u2029",
		"\ufffd", "\ufeff", "\U0010FFFF", "for=127.0.10.7;host=\"abc.test:34029\";proto=https", "'",
	}
	switch rng.IntN(8) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("x", rng.IntN(300))
	}
	var sb strings.Builder
	for range rng.IntN(12) {
		sb.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return sb.String()
}

func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(6) {
	case 0:
		return time.Time{}
	case 1: // a whole second, or milliseconds: the fraction is trimmed
		return time.Unix(rng.Int64N(4e9), int64(rng.IntN(3))*int64(time.Millisecond)).UTC()
	case 2: // anywhere in years 0–9999
		lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
		return time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).UTC()
	}
	return time.Unix(1.7e9+rng.Int64N(1e8), rng.Int64N(1e9)).UTC()
}

func randInt(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return math.MaxInt64
	case 2:
		return math.MinInt64
	case 3:
		return -rng.Int64()
	}
	return rng.Int64N(1e10)
}

// randRequest draws a Request with every field randomly zero or not.
func randRequest(rng *rand.Rand) Request {
	s := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return randString(rng)
	}
	r := Request{
		Seq: randInt(rng), User: s(), SourceIP: s(), Scheduled: randTime(rng), Start: randTime(rng),
		Latency: time.Duration(randInt(rng)), Tenant: s(), Method: s(), URL: s(), Op: Op(s()),
		Status: int(randInt(rng)), Err: s(), LoggedOut: rng.IntN(2) == 0,
		Provider: s(), ServedTenant: s(), SessionUser: s(), TokenSent: s(), TokenReceived: s(),
		Location: s(), Backend: s(), MessageID: s(),
	}
	if rng.IntN(2) == 0 {
		f := &TLSFacts{Address: s(), ServerName: s(), Version: s(), Cipher: s(), ALPN: s(), NotAfter: randTime(rng),
			Verified: rng.IntN(2) == 0, VerifyErr: s(), Expected: s(), Resumed: rng.IntN(2) == 0}
		for range rng.IntN(4) {
			f.PeerNames = append(f.PeerNames, randString(rng))
		}
		r.TLS = f
	}
	if rng.IntN(2) == 0 {
		r.Seen = &Seen{RemoteAddr: s(), XForwardedFor: s(), XForwardedProto: s(), XForwardedHost: s(), Forwarded: s(), TLS: rng.IntN(2) == 0}
	}
	return r
}

// TestFastCodecRoundTripProperty: random requests (every field, unicode,
// escapes, zero values, extreme integers and durations, years 0–9999) are
// written as encoding/json writes them and read back identically.
func TestFastCodecRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 4))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	h := &History{Meta: Meta{RunID: "prop", Started: t0}}
	for range n {
		r := randRequest(rng)
		checkAgainstJSON(t, &r)
		h.Requests = append(h.Requests, r)
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	got, err := Read(&buf)
	require.NoError(t, err)
	require.Equal(t, len(h.Requests), len(got.Requests))
	for i := range h.Requests {
		require.Equal(t, h.Requests[i], got.Requests[i], "request %d reads back as written", i)
	}
}

// TestFastCodecOddInputs: inputs the fast codec leaves to encoding/json, or
// handles in its own way, end the same as with encoding/json.
func TestFastCodecOddInputs(t *testing.T) {
	est, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	t.Run("encode", func(t *testing.T) {
		for _, r := range []Request{
			{User: "bad \xff utf8 \xc3", URL: "\xed\xa0\x80"},                           // invalid UTF-8 and a surrogate's bytes: U+FFFD
			{Start: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 5*3600+1800))}, // an offset
			{Start: time.Date(2026, 7, 2, 3, 4, 5, 0, est)},                             // a named zone
			{Start: time.Now()},                     // Local, with a monotonic reading
			{TLS: &TLSFacts{PeerNames: []string{}}}, // empty, not nil
			{Latency: math.MinInt64, Seq: math.MaxInt64, Status: -1},
			{Start: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Scheduled: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
			{Start: time.Date(2024, 2, 29, 23, 59, 59, 100, time.UTC), Scheduled: time.Date(1969, 12, 31, 23, 59, 59, 1e8, time.UTC)},
			{Start: time.Date(1600, 2, 29, 12, 0, 0, 0, time.UTC), Scheduled: time.Date(1900, 3, 1, 0, 0, 0, 10, time.UTC)},
		} {
			checkAgainstJSON(t, &r)
		}
		for _, r := range []Request{
			{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Start: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		} {
			_, ok := appendRequestLine(nil, &r)
			assert.False(t, ok, "the fast encoder gives up where MarshalJSON fails")
			_, err := appendLine(nil, line{Type: TypeRequest, Request: &r})
			require.Error(t, err, "and encoding/json reports the error")
		}
	})
	t.Run("decode", func(t *testing.T) {
		lines := []string{
			`{"type":"request","request":{"seq":1,"user":"a\u00e9\u2028b\/c\"d\\e\b\f\n\r\t"}}`,
			`{"type":"request","request":{"user":"\ud83d\ude00 pair"}}`,
			`{"type":"request","request":{"user":"\ud83d lone"}}`,
			`{"type":"request","request":{"user":"bad ` + "\xff" + ` utf8"}}`,
			`{"type":"request","request":{"user":null,"tls":null,"seq":null}}`,
			`{"type":"request","request":{"seq":1,"seq":2}}`,
			`{"type":"request","request":{"tls":{"address":"a"},"tls":{"cipher":"c"}}}`,
			`{"type":"request","request":{"SEQ":5,"User":"u"}}`,
			`{"type":"request","request":{"seq":1,"unknown":{"a":[1,2,{"b":null}]},"user":"u"}}`,
			`{"request":{"seq":3},"type":"request"}`,
			` { "type" : "request" , "request" : { "seq" : 3 , "tls" : { "peer_names" : [ "a" , "b" ] } } } ` + "\r\n",
			`{"type":"request","request":{"seq":1e3}}`,
			`{"type":"request","request":{"seq":1.0}}`,
			`{"type":"request","request":{"seq":-0}}`,
			`{"type":"request","request":{"seq":01}}`,
			`{"type":"request","request":{"seq":9223372036854775807,"latency_ns":-9223372036854775808}}`,
			`{"type":"request","request":{"seq":9223372036854775808}}`,
			`{"type":"request","request":{"status":"200"}}`,
			`{"type":"request","request":{"logged_out":1}}`,
			`{"type":"request","request":{"start":"2026-12-07T09:00:52.949556496+01:00"}}`,
			`{"type":"request","request":{"start":"2026-12-07T09:00:52.9495564961234Z"}}`,
			`{"type":"request","request":{"start":"2026-12-07t09:00:52Z"}}`,
			`{"type":"request","request":{"start":"2026-02-29T09:00:52Z"}}`,
			`{"type":"request","request":{"start":"2024-02-29T23:59:59.5Z"}}`,
			`{"type":"request","request":{"start":"2026-12-07T24:00:00Z"}}`,
			`{"type":"request","request":{"start":"0000-01-01T00:00:00Z"}}`,
			`{"type":"request","request":{"start":""}}`,
			`{"type":"request","request":{"start":"2026-12-07T09:00:52Z","tls":{"not_after":"2026-12-07T09:00:52Z"}}}`,
			`{"type":"request","request":{"start":"\u0032026-12-07T09:00:52Z"}}`,
			`{"type":"request","request":{"tls":{"peer_names":[]}}}`,
			`{"type":"request","request":{"tls":{"peer_names":null}}}`,
			`{"type":"request","request":{"tls":{"peer_names":["a",]}}}`,
			`{"type":"request","request":{"seq":1,}}`,
			`{"type":"request","request":{"seq":1}} x`,
			`{"type":"request","request":{"seq":1}}{}`,
			`{"type":"request","request":{"user":"tab	in string"}}`,
			`{"type":"request","request":{"op":"a\u0000b"}}`,
			`{"type":"meta","request":{"seq":1}}`,
			`{"type":"request","meta":{},"request":{"seq":1}}`,
			`{"type":"request","request":{}}`,
			`{"type":"request"}`,
			`{"type":"requests","request":{"seq":1}}`,
			`{"type":"request","request":{"seq":1}`,
			`{"type":"request","request":{"seq":true}}`,
			"\ufeff" + `{"type":"request","request":{"seq":1}}`,
		}
		shared := warmDecoder(t) // state carried from line to line (caches)
		for _, in := range lines {
			ref, refErr := refDecode([]byte(in))
			got, ok := fastDecode([]byte(in))
			if ok {
				require.NoError(t, refErr, "fast decoder accepted what encoding/json rejects: %s", in)
				require.Equal(t, ref, got, "fast decoder differs from encoding/json on %s", in)
			}
			var r Request
			if shared.requestLine([]byte(in), &r) {
				require.NoError(t, refErr, "warm fast decoder accepted what encoding/json rejects: %s", in)
				require.Equal(t, *ref, r, "warm fast decoder differs from encoding/json on %s", in)
			}
			// Read (fast path or fallback) agrees with encoding/json either way.
			h, err := Read(strings.NewReader(in))
			if refErr != nil {
				var l line
				if json.Unmarshal([]byte(in), &l) != nil {
					require.Error(t, err, in)
				}
				continue
			}
			require.NoError(t, err, in)
			require.Len(t, h.Requests, 1, in)
			require.Equal(t, *ref, h.Requests[0], in)
		}
	})
}

// warmDecoder is a decoder that has read realistic lines, so its caches
// (repeated strings, times) hold values.
func warmDecoder(t testing.TB) *decoder {
	d := newDecoder()
	reqs := realisticRequests(50, 11)
	for i := range reqs {
		l, err := appendLine(nil, line{Type: TypeRequest, Request: &reqs[i]})
		require.NoError(t, err)
		var r Request
		require.True(t, d.requestLine(l, &r))
	}
	return d
}

// FuzzFastDecode: the fast decoder never panics, and whatever it accepts
// encoding/json accepts and reads the same.
func FuzzFastDecode(f *testing.F) {
	var buf bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		r := randRequest(rng)
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(line{Type: TypeRequest, Request: &r})
		f.Add(bytes.Clone(buf.Bytes()))
	}
	for _, r := range realisticRequests(20, 3) {
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(line{Type: TypeRequest, Request: &r})
		f.Add(bytes.Clone(buf.Bytes()))
	}
	f.Add([]byte(`{"type":"request","request":{"user":"\ud83d\ude00","seq":1e3,"tls":{"peer_names":[]}}}`))
	f.Add([]byte(`{"request":{"SEQ":1,"start":"2026-12-07T09:00:52+01:00"},"type":"request"}`))
	warm := warmDecoder(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := fastDecode(in)
		var warmed Request
		if warm.requestLine(in, &warmed) {
			ref, err := refDecode(in)
			if err != nil || !reflect.DeepEqual(*ref, warmed) {
				t.Fatalf("warm fast decoder differs from encoding/json (%v) on %q", err, in)
			}
		}
		if !ok {
			return
		}
		ref, err := refDecode(in)
		if err != nil {
			t.Fatalf("fast decoder accepted what encoding/json rejects (%v): %q", err, in)
		}
		if !reflect.DeepEqual(ref, got) {
			t.Fatalf("fast decoder differs from encoding/json on %q:\n got %+v\nwant %+v", in, got, ref)
		}
	})
}

// FuzzFastEncode: the fast encoder writes the bytes encoding/json writes.
func FuzzFastEncode(f *testing.F) {
	f.Add("u001", "https://abc.test:8443/inbox", `for=1;host="x"`, int64(3e6), int64(1.7e18), true)
	f.Add("\xff<\u2028>", "\x00\x1f", "😀\\", int64(math.MinInt64), int64(-1), false)
	f.Fuzz(func(t *testing.T, a, b, c string, n, ns int64, flag bool) {
		r := Request{Seq: n, User: a, URL: b, Err: c, Latency: time.Duration(ns), Start: time.Unix(0, ns).UTC(), LoggedOut: flag,
			TLS: &TLSFacts{PeerNames: []string{a, b, c}, Verified: flag}, Seen: &Seen{Forwarded: c + a}}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(line{Type: TypeRequest, Request: &r}); err != nil {
			if _, ok := appendRequestLine(nil, &r); ok {
				t.Fatalf("fast encoder accepted what encoding/json rejects (%v)", err)
			}
			return
		}
		got, ok := appendRequestLine(nil, &r)
		if !ok {
			t.Fatalf("fast encoder gave up on %+v", r)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("bytes differ:\n got %s\nwant %s", got, want.Bytes())
		}
		if utf8.ValidString(a) && utf8.ValidString(b) && utf8.ValidString(c) {
			back, ok := fastDecode(got)
			if !ok || !reflect.DeepEqual(*back, r) {
				t.Fatalf("did not read back: ok=%v %+v", ok, back)
			}
		}
	})
}

// readReference is Read as it was before the fast codec: encoding/json only.
func readReference(t *testing.T, r io.Reader) *History {
	t.Helper()
	h := &History{}
	faultAt := map[int]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		switch l.Type {
		case TypeMeta:
			h.Meta = *l.Meta
		case TypeRequest:
			h.Requests = append(h.Requests, *l.Request)
		case TypeFault:
			if i, ok := faultAt[l.Fault.ID]; ok && l.Fault.ID != 0 {
				h.Faults[i] = *l.Fault
				continue
			}
			if l.Fault.ID != 0 {
				faultAt[l.Fault.ID] = len(h.Faults)
			}
			h.Faults = append(h.Faults, *l.Fault)
		case TypeFinal:
			h.Final = *l.Final
		}
	}
	require.NoError(t, sc.Err())
	return h
}

// TestReadStoredHistories: histories written by earlier versions (samples of
// real runs, in testdata) read as they always did, every request line on
// the fast path, and request lines are written back byte for byte.
func TestReadStoredHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/stored-*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			raw, err := os.ReadFile(name)
			require.NoError(t, err)
			got, err := Read(bytes.NewReader(raw))
			require.NoError(t, err)
			want := readReference(t, bytes.NewReader(raw))
			require.NotEmpty(t, want.Requests)
			assert.Equal(t, want, got)

			var reqLines []string
			for l := range strings.Lines(string(raw)) {
				if strings.HasPrefix(l, requestPrefix) {
					reqLines = append(reqLines, l)
					_, ok := fastDecode([]byte(l))
					assert.True(t, ok, "fast decoder gave up on a stored line: %s", l)
				}
			}
			var out bytes.Buffer
			require.NoError(t, Write(&out, got))
			var written []string
			for l := range strings.Lines(out.String()) {
				if strings.HasPrefix(l, requestPrefix) {
					written = append(written, l)
				}
			}
			assert.Equal(t, reqLines, written, "request lines are written back byte for byte")
		})
	}
}

// TestDecoderSharesNothingMutable: decoded requests do not share slices or
// structs, so a caller may change one without changing another.
func TestDecoderSharesNothingMutable(t *testing.T) {
	h := &History{Requests: realisticRequests(200, 9)}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	got, err := Read(&buf)
	require.NoError(t, err)
	var a, b *Request
	for i := range got.Requests {
		if got.Requests[i].TLS != nil && len(got.Requests[i].TLS.PeerNames) > 0 {
			if a == nil {
				a = &got.Requests[i]
			} else {
				b = &got.Requests[i]
				break
			}
		}
	}
	require.NotNil(t, b)
	before := b.TLS.PeerNames[0]
	a.TLS.PeerNames = append(a.TLS.PeerNames, "appended")
	a.TLS.PeerNames[0] = "changed"
	a.TLS.Cipher = "changed"
	assert.Equal(t, before, b.TLS.PeerNames[0])
	assert.NotEqual(t, "changed", b.TLS.Cipher)
}
