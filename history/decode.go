package history

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// decoder is the fast decoder's state for one Read: where decoded strings
// and structs are allocated, and a small cache that makes repeated strings
// (users, tenants, TLS facts, forwarded headers) share their bytes.
//
// Strings are copied into large byte chunks and point into them; nested
// structs (TLSFacts, Seen) and []string come from slabs (taken from the
// read's shared pools when it has them, pool.go). A history keeps all its
// requests, so chunks are never freed early, and the collector sees a few
// large objects instead of tens of millions of small ones (a caller holding
// one TLSFacts keeps its slab alive).
type decoder struct {
	chunk   []byte // free tail of the current string chunk
	intern  [internSize]string
	fields  []internState // per codec field slot
	times   []timeCache   // per codec field slot
	slabs   []slab        // per struct codec id
	strs    []string      // free tail of the current []string slab
	scratch []byte        // unescaped string being built
	list    []string      // elements of the array being decoded
	pools   *pools        // shared presized memory, nil when none
	used    usage         // what this decoder allocated
}

const (
	chunkSize   = 256 << 10 // string bytes allocated at a time
	ownString   = 4 << 10   // longer strings get their own allocation
	internBits  = 12        // the repeated-string cache has 1<<internBits entries
	internSize  = 1 << internBits
	internMax   = 96   // longer strings are not looked up in it
	slabLen     = 512  // structs allocated at a time
	strsSlabLen = 1024 // []string elements allocated at a time
	maxDepth    = 1000 // deeper nesting is left to encoding/json
)

// slab hands out zeroed structs of one type from a larger array.
type slab struct {
	base unsafe.Pointer // the array
	size uintptr        // of one element
	next int            // elements handed out
}

func newDecoder() *decoder {
	structs, slots := codecSizes()
	return &decoder{slabs: make([]slab, structs), fields: make([]internState, slots), times: make([]timeCache, slots),
		used: usage{structs: make([]int, structs)}}
}

// requestLine decodes b, one line, into r when it is a request record the
// fast codec reads exactly as encoding/json would; false when it gives up
// (r is then partly written: the caller discards it).
func (d *decoder) requestLine(b []byte, r *Request) bool {
	if requestCodec == nil {
		return false
	}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	var typed, got bool
	for {
		// Keys: exactly "type" or "request", each once; anything else
		// (another record, a key in another case, an escape) is left to
		// encoding/json.
		if i+2 >= len(b) || b[i] != '"' {
			return false
		}
		var ok bool
		switch {
		case hasPrefixAt(b, i, `"type"`) && !typed:
			i = skipWS(b, i+len(`"type"`))
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i = skipWS(b, i+1)
			if !hasPrefixAt(b, i, `"request"`) {
				return false
			}
			i += len(`"request"`)
			typed = true
		case hasPrefixAt(b, i, `"request"`) && !got:
			i = skipWS(b, i+len(`"request"`))
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i = skipWS(b, i+1)
			if i >= len(b) || b[i] != '{' {
				return false
			}
			if i, ok = d.object(requestCodec, b, i, unsafe.Pointer(r), 1); !ok {
				return false
			}
			got = true
		default:
			return false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] != '}' {
			return false
		}
		return typed && got && skipWS(b, i+1) == len(b)
	}
}

func hasPrefixAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

func skipWS(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return skipWSLoop(b, i)
}

func skipWSLoop(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// object decodes the object at b[i] ('{') into the struct at p.
func (d *decoder) object(c *structCodec, b []byte, i int, p unsafe.Pointer, depth int) (int, bool) {
	if depth > maxDepth {
		return 0, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	var seen [maxFields / 64]uint64
	next := 0 // fields come in declaration order when we wrote them
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		// The key, matched exactly against the field names in the order
		// they are written; any other key (unknown, in another case, with
		// an escape) leaves the line to encoding/json, which unescapes keys
		// and matches them regardless of case.
		fi := -1
		for j := next; j < len(c.fields); j++ {
			if c.fields[j].keyAt(b, i) {
				fi = j
				break
			}
		}
		if fi < 0 {
			for j := 0; j < next; j++ {
				if c.fields[j].keyAt(b, i) {
					fi = j
					break
				}
			}
			if fi < 0 {
				return 0, false
			}
		}
		ke := i + len(c.fields[fi].quoted) - 1 // the closing quote
		if seen[fi>>6]&(1<<(fi&63)) != 0 {
			return 0, false // a repeated key: encoding/json merges, we don't
		}
		seen[fi>>6] |= 1 << (fi & 63)
		next = fi + 1
		i = skipWS(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipWS(b, i+1)
		f := &c.fields[fi]
		if f.kind == kindString && i < len(b) && b[i] == '"' {
			// The common case, without the call.
			s, end, ok := d.str(b, i, &d.fields[f.slot])
			if !ok {
				return 0, false
			}
			*(*string)(unsafe.Add(p, f.off)) = s
			i = end
		} else {
			var ok bool
			if i, ok = d.value(f, b, i, unsafe.Add(p, f.off), depth); !ok {
				return 0, false
			}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// keyAt reports whether b[i:] starts with f's quoted name: compared a word
// at a time for names up to 14 bytes.
func (f *codecField) keyAt(b []byte, i int) bool {
	if len(b)-i >= 16 {
		if binary.LittleEndian.Uint64(b[i:])&f.keyMask[0] != f.keyWord[0] ||
			binary.LittleEndian.Uint64(b[i+8:])&f.keyMask[1] != f.keyWord[1] {
			return false
		}
		if len(f.quoted) <= 16 {
			return true
		}
	}
	return len(b)-i >= len(f.quoted) && string(b[i:i+len(f.quoted)]) == f.quoted
}

// value decodes the value at b[i] into the field f at fp.
func (d *decoder) value(f *codecField, b []byte, i int, fp unsafe.Pointer, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == 'n' && f.kind != kindJSON {
		// null leaves a field as it is (a pointer or slice nil): here, zero.
		return i + 4, hasPrefixAt(b, i, "null")
	}
	switch f.kind {
	case kindString:
		if b[i] != '"' {
			return 0, false
		}
		s, end, ok := d.str(b, i, &d.fields[f.slot])
		if !ok {
			return 0, false
		}
		*(*string)(fp) = s
		return end, true
	case kindInt:
		v, end, ok := parseInt(b, i)
		if !ok || !storeInt(fp, f.size, v) {
			return 0, false
		}
		return end, true
	case kindUint:
		v, end, ok := parseUint(b, i)
		if !ok || !storeUint(fp, f.size, v) {
			return 0, false
		}
		return end, true
	case kindBool:
		switch {
		case hasPrefixAt(b, i, "true"):
			*(*bool)(fp) = true
			return i + 4, true
		case hasPrefixAt(b, i, "false"):
			*(*bool)(fp) = false
			return i + 5, true
		}
		return 0, false
	case kindTime:
		if b[i] != '"' {
			return 0, false
		}
		end, ok := skipString(b, i)
		if !ok {
			return 0, false
		}
		raw := b[i+1 : end-1]
		if tc := &d.times[f.slot]; len(raw) == len(tc.raw) && len(raw) > 0 && string(raw) == string(tc.raw) {
			*(*time.Time)(fp) = tc.t // the same as in the line before (a certificate's not_after)
			return end, true
		}
		if parseTime(raw, (*time.Time)(fp)) {
			tc := &d.times[f.slot]
			tc.raw = append(tc.raw[:0], raw...)
			tc.t = *(*time.Time)(fp)
		} else {
			// Anything but the plain UTC form: as encoding/json does.
			if err := (*time.Time)(fp).UnmarshalJSON(b[i:end]); err != nil {
				return 0, false
			}
		}
		return end, true
	case kindStrings:
		if b[i] != '[' {
			return 0, false
		}
		return d.strings(b, i, (*[]string)(fp), &d.fields[f.slot])
	case kindStruct:
		if b[i] != '{' {
			return 0, false
		}
		sp := d.alloc(f.sub)
		end, ok := d.object(f.sub, b, i, sp, depth+1)
		if !ok {
			return 0, false
		}
		*(*unsafe.Pointer)(fp) = sp
		return end, true
	default: // kindJSON
		end, ok := skipValue(b, i, depth)
		if !ok {
			return 0, false
		}
		if err := json.Unmarshal(b[i:end], reflect.NewAt(f.typ, fp).Interface()); err != nil {
			return 0, false
		}
		return end, true
	}
}

// alloc returns a zeroed struct of c's type from its slab.
func (d *decoder) alloc(c *structCodec) unsafe.Pointer {
	s := &d.slabs[c.id]
	if s.base == nil || s.next == slabLen {
		// Never a pointer past the array: the next one is a new array.
		var ok bool
		if d.pools != nil {
			s.base, ok = d.pools.structs[c.id].take(slabLen)
		}
		if !ok {
			s.base = reflect.New(reflect.ArrayOf(slabLen, c.typ)).UnsafePointer()
			prefault(s.base, slabLen*c.typ.Size())
		}
		s.size = c.typ.Size()
		s.next = 0
	}
	p := unsafe.Add(s.base, uintptr(s.next)*s.size)
	s.next++
	d.used.structs[c.id]++
	return p
}

// strings decodes an array of strings at b[i] ('[').
func (d *decoder) strings(b []byte, i int, out *[]string, st *internState) (int, bool) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		*out = []string{}
		return i + 1, true
	}
	d.list = d.list[:0]
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		s, end, ok := d.str(b, i, st)
		if !ok {
			return 0, false
		}
		d.list = append(d.list, s)
		i = skipWS(b, end)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] != ']' {
			return 0, false
		}
		i++
		break
	}
	n := len(d.list)
	if n > len(d.strs) {
		var ok bool
		if d.pools != nil && n <= strsSlabLen {
			var free []string
			if free, ok = d.pools.strs.take(strsSlabLen); ok {
				d.strs = free[:strsSlabLen]
			}
		}
		if !ok {
			d.strs = make([]string, max(strsSlabLen, n))
		}
	}
	d.used.strs += n
	s := d.strs[:n:n]
	d.strs = d.strs[n:]
	copy(s, d.list)
	*out = s
	return i, true
}

// decodeStop flags the bytes a plain string scan stops at: '"', '\\',
// control bytes and bytes of multi-byte runes.
func decodeStop(w uint64) uint64 {
	m := (w - 0x20*lsb) &^ w
	m |= zeroBytes(w ^ ('"' * lsb))
	m |= zeroBytes(w ^ ('\\' * lsb))
	return (m | w) & msb
}

// scanPlain returns the index of the first byte at or after i that is not
// plain (see decodeStop), or len(b).
func scanPlain(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := decodeStop(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	return i
}

var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str decodes the string at b[i] ('"'): its value and the index past it.
// Invalid UTF-8 and surrogate escapes are left to encoding/json.
func (d *decoder) str(b []byte, i int, st *internState) (string, int, bool) {
	j := i + 1
	for {
		j = scanPlain(b, j)
		if j >= len(b) {
			return "", 0, false
		}
		switch c := b[j]; {
		case c == '"':
			return d.makeString(b[i+1:j], st), j + 1, true
		case c == '\\':
			return d.strEscaped(b, i+1, j, st)
		case c < 0x20:
			return "", 0, false
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return "", 0, false
			}
			j += size
		}
	}
}

// strEscaped finishes a string with escapes: b[start:j] is plain, b[j] is
// the first backslash.
func (d *decoder) strEscaped(b []byte, start, j int, st *internState) (string, int, bool) {
	out := append(d.scratch[:0], b[start:j]...)
	for {
		// b[j] == '\\'
		if j+1 >= len(b) {
			return "", 0, false
		}
		switch e := b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
			j += 2
		case 'b':
			out = append(out, '\b')
			j += 2
		case 'f':
			out = append(out, '\f')
			j += 2
		case 'n':
			out = append(out, '\n')
			j += 2
		case 'r':
			out = append(out, '\r')
			j += 2
		case 't':
			out = append(out, '\t')
			j += 2
		case 'u':
			if j+6 > len(b) {
				return "", 0, false
			}
			r := 0
			for _, h := range b[j+2 : j+6] {
				v := hexValue[h]
				if v < 0 {
					return "", 0, false
				}
				r = r<<4 | int(v)
			}
			if r >= 0xD800 && r < 0xE000 {
				return "", 0, false // surrogates: encoding/json pairs or replaces them
			}
			out = utf8.AppendRune(out, rune(r))
			j += 6
		default:
			return "", 0, false
		}
		for {
			k := scanPlain(b, j)
			out = append(out, b[j:k]...)
			j = k
			if j >= len(b) {
				return "", 0, false
			}
			c := b[j]
			if c == '"' {
				d.scratch = out
				return d.makeString(out, st), j + 1, true
			}
			if c == '\\' {
				break
			}
			if c < 0x20 {
				return "", 0, false
			}
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return "", 0, false
			}
			out = append(out, b[j:j+size]...)
			j += size
		}
	}
}

var hexValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()

// timeCache is the last UTC time a field read, and its text.
type timeCache struct {
	raw []byte
	t   time.Time
}

// internState says whether looking a field's strings up in the cache pays:
// fields whose values rarely repeat (tokens) stop looking for a while.
type internState struct {
	tries, hits uint32 // in the current window
	skip        uint32 // values still to copy without a look-up
}

const (
	internWindow = 1024 // look-ups judged at a time
	internPause  = 16 * internWindow
)

// makeString returns raw as a string: the cached one when it was seen
// recently, else a copy in the current chunk.
func (d *decoder) makeString(raw []byte, st *internState) string {
	n := len(raw)
	if n == 0 {
		return ""
	}
	if n > internMax || st.skip > 0 {
		if st.skip > 0 {
			st.skip--
		}
		return d.copyString(raw)
	}
	st.tries++
	h := internIndex(raw)
	s := d.intern[h]
	if sameBytes(s, raw) {
		st.hits++
	} else {
		s = d.copyString(raw)
		d.intern[h] = s
	}
	if st.tries == internWindow {
		if st.hits < internWindow/16 {
			st.skip = internPause
		}
		st.tries, st.hits = 0, 0
	}
	return s
}

// sameBytes is s == string(raw), without a call for up to 16 bytes.
func sameBytes(s string, raw []byte) bool {
	n := len(raw)
	if len(s) != n {
		return false
	}
	if n >= 8 && n <= 16 {
		p := unsafe.Slice(unsafe.StringData(s), n)
		return binary.LittleEndian.Uint64(p) == binary.LittleEndian.Uint64(raw) &&
			binary.LittleEndian.Uint64(p[n-8:]) == binary.LittleEndian.Uint64(raw[n-8:])
	}
	return s == string(raw)
}

// internIndex hashes raw (up to 24 of its bytes: start, middle, end, and
// its length) to a slot of the cache.
func internIndex(raw []byte) uint32 {
	n := len(raw)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(raw)*0x9E3779B97F4A7C15 ^
			binary.LittleEndian.Uint64(raw[(n-8)/2:])*0xC2B2AE3D27D4EB4F ^
			binary.LittleEndian.Uint64(raw[n-8:])*0x165667B19E3779F9
	} else {
		for _, c := range raw {
			h = h<<8 | uint64(c)
		}
		h *= 0x9E3779B97F4A7C15
	}
	h = (h ^ uint64(n) ^ h>>29) * 0xBF58476D1CE4E5B9
	return uint32(h >> (64 - internBits))
}

func (d *decoder) copyString(raw []byte) string {
	n := len(raw)
	if n > ownString {
		return string(raw)
	}
	if n > cap(d.chunk)-len(d.chunk) {
		var ok bool
		if d.pools != nil {
			d.chunk, ok = d.pools.bytes.take(chunkSize)
		}
		if !ok {
			d.chunk = make([]byte, 0, chunkSize)
			prefault(unsafe.Pointer(unsafe.SliceData(d.chunk)), chunkSize)
		}
	}
	d.used.strBytes += n
	start := len(d.chunk)
	d.chunk = append(d.chunk, raw...)
	return unsafe.String(&d.chunk[start], n)
}

// parseInt reads a JSON integer as encoding/json reads one into an int
// field: no fraction, no exponent (those fail there too).
func parseInt(b []byte, i int) (int64, int, bool) {
	start := i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	u, end, ok := parseDigits(b, i)
	if !ok {
		return 0, 0, false
	}
	if end-i > 18 {
		v, err := strconv.ParseInt(string(b[start:end]), 10, 64)
		return v, end, err == nil
	}
	v := int64(u)
	if neg {
		v = -v
	}
	return v, end, true
}

func parseUint(b []byte, i int) (uint64, int, bool) {
	u, end, ok := parseDigits(b, i)
	if !ok {
		return 0, 0, false
	}
	if end-i > 19 {
		v, err := strconv.ParseUint(string(b[i:end]), 10, 64)
		return v, end, err == nil
	}
	return u, end, true
}

// parseDigits reads 0 or [1-9][0-9]* not followed by a fraction or exponent;
// the value is exact for up to 19 digits.
func parseDigits(b []byte, i int) (uint64, int, bool) {
	if i >= len(b) {
		return 0, 0, false
	}
	var v uint64
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		for i < len(b) && b[i]-'0' <= 9 {
			v = v*10 + uint64(b[i]-'0')
			i++
		}
	default:
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i]-'0' <= 9) {
		return 0, 0, false
	}
	return v, i, true
}

func storeInt(p unsafe.Pointer, size uintptr, v int64) bool {
	switch size {
	case 8:
		*(*int64)(p) = v
	case 4:
		if v != int64(int32(v)) {
			return false
		}
		*(*int32)(p) = int32(v)
	case 2:
		if v != int64(int16(v)) {
			return false
		}
		*(*int16)(p) = int16(v)
	default:
		if v != int64(int8(v)) {
			return false
		}
		*(*int8)(p) = int8(v)
	}
	return true
}

func storeUint(p unsafe.Pointer, size uintptr, v uint64) bool {
	switch size {
	case 8:
		*(*uint64)(p) = v
	case 4:
		if v != uint64(uint32(v)) {
			return false
		}
		*(*uint32)(p) = uint32(v)
	case 2:
		if v != uint64(uint16(v)) {
			return false
		}
		*(*uint16)(p) = uint16(v)
	default:
		if v != uint64(uint8(v)) {
			return false
		}
		*(*uint8)(p) = uint8(v)
	}
	return true
}

// parseTime reads the form every history writes, "2006-01-02T15:04:05Z"
// with 0–9 fraction digits, in UTC, into t exactly as time.Time.UnmarshalJSON
// would; false for anything else (which that then reads).
func parseTime(s []byte, t *time.Time) bool {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return false
	}
	nsec := 0
	if frac := s[base : len(s)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	*t = time.Unix(daysSinceEpoch(year, month, day)*86400+int64(hour*3600+minute*60+sec), int64(nsec)).UTC()
	return true
}

func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c-'0' > 9 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the days from 1970-01-01 to the date (proleptic
// Gregorian; Howard Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// skipString returns the index past the string at b[i] ('"'), checking
// that it is valid JSON (escapes, no control bytes).
func skipString(b []byte, i int) (int, bool) {
	j := i + 1
	for {
		j = scanPlain(b, j)
		if j >= len(b) {
			return 0, false
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(b) {
				return 0, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) {
					return 0, false
				}
				for _, h := range b[j+2 : j+6] {
					if hexValue[h] < 0 {
						return 0, false
					}
				}
				j += 6
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		default:
			j++ // any other byte is valid JSON; its decoding is not ours
		}
	}
}

// skipValue returns the index past the JSON value at b[i], checking its
// syntax; deeper nesting than maxDepth is refused.
func skipValue(b []byte, i int, depth int) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				if i, ok = skipString(b, i); !ok {
					return 0, false
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipWS(b, i+1)
			}
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closer {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == 't':
		return i + 4, hasPrefixAt(b, i, "true")
	case c == 'f':
		return i + 5, hasPrefixAt(b, i, "false")
	case c == 'n':
		return i + 4, hasPrefixAt(b, i, "null")
	default:
		return skipNumber(b, i)
	}
}

// skipNumber returns the index past the JSON number at b[i].
func skipNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i]-'0' > 9 {
			return 0, false
		}
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i]-'0' > 9 {
			return 0, false
		}
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	}
	return i, true
}
