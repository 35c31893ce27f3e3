package history

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kinds has a field of every kind the codec knows and of several it hands
// to encoding/json, with the tag forms encoding/json reads: what a field
// added to Request later might look like.
type kinds struct {
	I8     int8            `json:"i8"`
	I16    int16           `json:"i16,omitempty"`
	I32    int32           `json:"i32"`
	I      int             `json:"i,omitzero"`
	U      uint            `json:"u"`
	U8     uint8           `json:"u8,omitempty"`
	U16    uint16          `json:"u16"`
	U32    uint32          `json:"u32"`
	U64    uint64          `json:",omitempty"`
	UP     uintptr         `json:"up"`
	F      float64         `json:"f"`
	F32    float32         `json:"f32,omitempty"`
	M      map[string]int  `json:"m,omitempty"`
	Ints   []int           `json:"ints"`
	Any    any             `json:"any"`
	Text   textish         `json:"text,omitempty"`
	Addr   netip.Addr      `json:"addr,omitzero"`
	TP     *time.Time      `json:"tp,omitempty"`
	T      time.Time       `json:"t,omitzero"`
	T2     time.Time       `json:"t2,omitempty"`
	Inner  kindsInner      `json:"inner"`
	PInner *kindsInner     `json:"pinner"`
	Strs   []string        `json:"strs,omitzero"`
	Strs2  []string        `json:"strs2"`
	Skip   string          `json:"-"`
	Dash   string          `json:"-,"`
	Bad    string          `json:"a\"b"`
	Raw    json.RawMessage `json:"raw,omitempty"`
	B      bool            `json:"b,omitzero"`
	Op     Op
	hidden int
}

type kindsInner struct {
	Name string      `json:"name"`
	Next *kindsInner `json:"next,omitempty"`
	N    int8        `json:"n"`
}

// textish has its own text form, so encoding/json does its fields.
type textish string

func (t textish) MarshalText() ([]byte, error) { return []byte("T:" + string(t)), nil }
func (t *textish) UnmarshalText(b []byte) error {
	*t = textish(strings.TrimPrefix(string(b), "T:"))
	return nil
}

func kindsCodec(t testing.TB) *structCodec {
	c, err := codecFor(reflect.TypeFor[kinds]())
	require.NoError(t, err)
	return c
}

// fastKinds decodes b as a kinds object with the fast decoder only.
func fastKinds(c *structCodec, b []byte) (*kinds, bool) {
	var v kinds
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	end, ok := newDecoder().object(c, b, i, unsafe.Pointer(&v), 1)
	if !ok || skipWS(b, end) != len(b) {
		return nil, false
	}
	return &v, true
}

func TestFastCodecKinds(t *testing.T) {
	c := kindsCodec(t)
	want := map[string]kind{
		"I8": kindInt, "U": kindUint, "UP": kindUint, "F": kindJSON, "M": kindJSON, "Ints": kindJSON, "Any": kindJSON,
		"Text": kindJSON, "Addr": kindJSON, "TP": kindJSON, "T": kindTime, "Inner": kindJSON, "PInner": kindStruct,
		"Strs": kindStrings, "Raw": kindJSON, "B": kindBool, "Op": kindString, "Dash": kindString, "Bad": kindString,
	}
	names := map[string]string{}
	for _, f := range c.fields {
		names[f.goName] = f.name
		if k, ok := want[f.goName]; ok {
			assert.Equal(t, k, f.kind, "kind of %s", f.goName)
		}
	}
	assert.NotContains(t, names, "Skip")
	assert.NotContains(t, names, "hidden")
	assert.Equal(t, "-", names["Dash"])
	assert.Equal(t, "Bad", names["Bad"], "an invalid tag name falls back to the Go name")
	assert.Equal(t, "U64", names["U64"])

	check := func(t *testing.T, v *kinds) {
		t.Helper()
		wantB, err := json.Marshal(v)
		require.NoError(t, err)
		got, ok := c.appendObject(nil, unsafe.Pointer(v))
		require.True(t, ok)
		require.Equal(t, string(wantB), string(got))
		var ref kinds
		require.NoError(t, json.Unmarshal(wantB, &ref))
		dec, ok := fastKinds(c, wantB)
		require.True(t, ok, "fast decoder gave up on %s", wantB)
		require.Equal(t, ref, *dec)
	}
	t.Run("zero", func(t *testing.T) { check(t, &kinds{}) })
	t.Run("filled", func(t *testing.T) {
		var v kinds
		fill(reflect.ValueOf(&v).Elem(), "k", 0)
		v.Raw = json.RawMessage(`{"a":[1,2.5,"x",null,true]}`)
		v.Addr = netip.MustParseAddr("127.0.10.7")
		v.Any = map[string]any{"a": []any{1.5, "b", nil, false}}
		check(t, &v)
	})
	t.Run("extremes", func(t *testing.T) {
		check(t, &kinds{I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I: math.MinInt, U: math.MaxUint,
			U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64, UP: 1,
			F: math.SmallestNonzeroFloat64, F32: math.MaxFloat32, Strs: []string{}, Strs2: []string{}, Ints: []int{},
			PInner: &kindsInner{Next: &kindsInner{Name: "deep", N: -1}}})
	})
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 18))
		for range 2000 {
			v := kinds{I8: int8(rng.Int()), I16: int16(rng.Int()), I32: int32(rng.Int()), I: int(randInt(rng)),
				U: uint(rng.Uint64()), U8: uint8(rng.Uint64()), U16: uint16(rng.Uint64() % 3), U32: uint32(rng.Uint64()),
				U64: rng.Uint64() >> rng.IntN(64), F: rng.NormFloat64(), Op: Op(randString(rng)), Bad: randString(rng),
				T: randTime(rng), T2: randTime(rng), B: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				v.PInner = &kindsInner{Name: randString(rng), N: int8(rng.Int())}
			}
			if rng.IntN(2) == 0 {
				v.Strs = []string{randString(rng), randString(rng)}
			}
			check(t, &v)
		}
	})
	t.Run("decode only", func(t *testing.T) {
		for _, in := range []string{
			`{"i8":127,"i16":-32768,"u8":255,"u16":65535,"u32":4294967295,"U64":18446744073709551615,"up":0}`,
			`{"i8":128}`, `{"i8":-129}`, `{"i16":40000}`, `{"i32":2147483648}`, `{"u8":256}`, `{"u16":65536}`,
			`{"u32":4294967296}`, `{"U64":18446744073709551616}`, `{"u":-1}`, `{"u":-0}`, `{"u":1.5}`,
			`{"f":1e400}`, `{"f":-0.0e-5}`, `{"f":1.}`, `{"f":.5}`, `{"f":01}`, `{"f":-}`, `{"f":1e}`, `{"f":1E+2}`,
			`{"m":{"a":1,"b":2}}`, `{"m":{"a":"x"}}`, `{"m":{"a":1,}}`, `{"m":{"a" 1}}`, `{"ints":[1,[2]]}`,
			`{"any":{"a":[{"b":{"c":[]}}],"d":"\u00e9\ud83d\ude00"}}`, `{"any":[1,2,]}`, `{"any":nul}`, `{"any":tru}`,
			`{"text":"T:abc"}`, `{"text":5}`, `{"addr":"1.2.3.4"}`, `{"addr":"nope"}`, `{"tp":"2026-01-01T00:00:00Z"}`,
			`{"tp":null}`, `{"inner":{"name":"x","next":{"n":3}}}`, `{"pinner":{"next":{"next":{"name":"z"}}}}`,
			`{"pinner":{"n":1000}}`, `{"strs":["a","b\n"]}`, `{"strs":["a",1]}`, `{"raw":{"x":[1,2,3]}}`,
			`{"raw":"\z"}`, `{"-":"dash","Bad":"b","Op":"login"}`, `{"Skip":"no"}`, `{"hidden":1}`,
			`{"t":"2026-12-07T09:00:52.949556496Z","t2":"2026-12-07T09:00:52+02:00"}`,
			`{"any":"` + strings.Repeat(`\\`, 50) + `"}`, `{"any":[` + strings.Repeat(`[`, 1200) + strings.Repeat(`]`, 1200) + `]}`,
		} {
			var ref kinds
			refErr := json.Unmarshal([]byte(in), &ref)
			got, ok := fastKinds(c, []byte(in))
			if ok {
				require.NoError(t, refErr, "fast decoder accepted what encoding/json rejects: %s", in)
				require.Equal(t, ref, *got, in)
			}
		}
	})
}

// FuzzFastDecodeKinds: on every kind of field, whatever the fast decoder
// accepts, encoding/json accepts and reads the same.
func FuzzFastDecodeKinds(f *testing.F) {
	c := kindsCodec(f)
	var v kinds
	fill(reflect.ValueOf(&v).Elem(), "k", 0)
	b, _ := json.Marshal(&v)
	f.Add(b)
	f.Add([]byte(`{"i8":-128,"u":0,"f":-1.5e-3,"m":{"x":1},"any":[{"a":null}],"strs":[],"pinner":{"next":{}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := fastKinds(c, in)
		if !ok {
			return
		}
		var ref kinds
		if err := json.Unmarshal(in, &ref); err != nil {
			t.Fatalf("fast decoder accepted what encoding/json rejects (%v): %q", err, in)
		}
		if !reflect.DeepEqual(ref, *got) {
			t.Fatalf("differs on %q:\n got %+v\nwant %+v", in, *got, ref)
		}
		// And what it read, it writes as encoding/json does.
		want, err := json.Marshal(got)
		if err != nil {
			return
		}
		out, ok := c.appendObject(nil, unsafe.Pointer(got))
		if !ok || !bytes.Equal(out, want) {
			t.Fatalf("re-encoding differs:\n got %s\nwant %s", out, want)
		}
	})
}
