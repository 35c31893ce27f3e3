package history

import (
	"encoding/binary"
	"encoding/json"
	"time"
	"unicode/utf8"
	"unsafe"
)

// requestPrefix opens a request line exactly as encoding/json writes line.
const requestPrefix = `{"type":"request","request":`

// appendLine appends l as one JSON line (with its newline), byte for byte
// what json.Encoder.Encode writes: request records through the fast codec,
// everything else (and any request it gives up on) through encoding/json.
func appendLine(dst []byte, l line) ([]byte, error) {
	if l.Type == TypeRequest && l.Request != nil && l.Meta == nil && l.Fault == nil && l.Final == nil {
		if out, ok := appendRequestLine(dst, l.Request); ok {
			return out, nil
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

// appendRequestLine appends r's line with the fast codec; false (and dst
// unchanged in length) when the codec gives up on it.
func appendRequestLine(dst []byte, r *Request) ([]byte, bool) {
	if requestCodec == nil {
		return dst, false
	}
	n := len(dst)
	dst = append(dst, requestPrefix...)
	out, ok := requestCodec.appendObject(dst, unsafe.Pointer(r))
	if !ok {
		return dst[:n], false
	}
	return append(out, '}', '\n'), true
}

// appendObject appends the struct at p as a JSON object.
func (c *structCodec) appendObject(dst []byte, p unsafe.Pointer) ([]byte, bool) {
	dst = append(dst, '{')
	comma := 1 // skip the key's leading comma for the first field
	for i := range c.fields {
		f := &c.fields[i]
		fp := unsafe.Add(p, f.off)
		omit := f.omitEmpty || f.omitZero
		switch f.kind {
		case kindString:
			s := *(*string)(fp)
			if s == "" && omit {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			dst = appendQuoted(dst, s)
		case kindBool:
			v := *(*bool)(fp)
			if !v && omit {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			if v {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		case kindInt:
			v := loadInt(fp, f.size)
			if v == 0 && omit {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			dst = appendInt(dst, v)
		case kindUint:
			v := loadUint(fp, f.size)
			if v == 0 && omit {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			dst = appendUint(dst, v)
		case kindTime:
			t := (*time.Time)(fp)
			if f.omitZero && t.IsZero() {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			var ok bool
			if dst, ok = appendTime(dst, t); !ok {
				return dst, false
			}
		case kindStrings:
			s := *(*[]string)(fp)
			if (s == nil && omit) || (len(s) == 0 && f.omitEmpty) {
				continue
			}
			dst = append(dst, f.key[comma:]...)
			if s == nil {
				dst = append(dst, "null"...)
				break
			}
			dst = append(dst, '[')
			for j, e := range s {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendQuoted(dst, e)
			}
			dst = append(dst, ']')
		case kindStruct:
			sp := *(*unsafe.Pointer)(fp)
			if sp == nil {
				if omit {
					continue
				}
				dst = append(dst, f.key[comma:]...)
				dst = append(dst, "null"...)
				break
			}
			dst = append(dst, f.key[comma:]...)
			var ok bool
			if dst, ok = f.sub.appendObject(dst, sp); !ok {
				return dst, false
			}
		default: // kindJSON
			v := f.fieldValue(fp)
			if (f.omitEmpty && isEmptyValue(v)) || (f.omitZero && v.IsZero()) {
				continue
			}
			b, err := json.Marshal(v.Addr().Interface())
			if err != nil {
				return dst, false
			}
			dst = append(dst, f.key[comma:]...)
			dst = append(dst, b...)
		}
		comma = 0
	}
	return append(dst, '}'), true
}

func loadInt(p unsafe.Pointer, size uintptr) int64 {
	switch size {
	case 8:
		return *(*int64)(p)
	case 4:
		return int64(*(*int32)(p))
	case 2:
		return int64(*(*int16)(p))
	default:
		return int64(*(*int8)(p))
	}
}

func loadUint(p unsafe.Pointer, size uintptr) uint64 {
	switch size {
	case 8:
		return *(*uint64)(p)
	case 4:
		return uint64(*(*uint32)(p))
	case 2:
		return uint64(*(*uint16)(p))
	default:
		return uint64(*(*uint8)(p))
	}
}

func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		return appendUint(dst, uint64(-v)) // -MinInt64 wraps to its magnitude
	}
	return appendUint(dst, uint64(v))
}

func appendUint(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	var buf [20]byte
	i := len(buf)
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		buf[i], buf[i+1] = digits2[2*r], digits2[2*r+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		buf[i], buf[i+1] = digits2[2*v], digits2[2*v+1]
	} else {
		i--
		buf[i] = byte('0' + v)
	}
	return append(dst, buf[i:]...)
}

const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendTime appends t as time.Time.MarshalJSON does; false where
// MarshalJSON fails (a year outside 0–9999, a zone hour past 23).
func appendTime(dst []byte, t *time.Time) ([]byte, bool) {
	if t.Location() == time.UTC {
		if out, ok := appendUTC(dst, t); ok {
			return out, true
		}
	}
	dst = append(dst, '"')
	n0 := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	if len(dst) < n0+len("2006-01-02T15:04:05Z") || dst[n0+len("9999")] != '-' {
		return dst, false
	}
	if dst[len(dst)-1] != 'Z' {
		c := dst[len(dst)-len("Z07:00")]
		h := dst[len(dst)-len("07:00"):]
		if ('0' <= c && c <= '9') || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return dst, false
		}
	}
	return append(dst, '"'), true
}

// Unix seconds of 0000-01-01T00:00:00Z and of 10000-01-01T00:00:00Z.
const (
	unixYear0     = -62167219200
	unixYear10000 = 253402300800
)

// appendUTC formats a UTC time as "2006-01-02T15:04:05.999999999Z" (quoted),
// as AppendFormat(RFC3339Nano) does; false outside years 0–9999.
func appendUTC(dst []byte, t *time.Time) ([]byte, bool) {
	sec := t.Unix()
	if sec < unixYear0 || sec >= unixYear10000 {
		return dst, false
	}
	days := (sec - unixYear0) / 86400
	rem := int((sec - unixYear0) % 86400)
	y, m, d := civil(days + unixYear0/86400)
	var b [len(`"2006-01-02T15:04:05.999999999Z"`)]byte
	b[0] = '"'
	b[1], b[2] = digits2[2*(y/100)], digits2[2*(y/100)+1]
	b[3], b[4] = digits2[2*(y%100)], digits2[2*(y%100)+1]
	b[5] = '-'
	b[6], b[7] = digits2[2*m], digits2[2*m+1]
	b[8] = '-'
	b[9], b[10] = digits2[2*d], digits2[2*d+1]
	b[11] = 'T'
	h, mi, s := rem/3600, rem/60%60, rem%60
	b[12], b[13] = digits2[2*h], digits2[2*h+1]
	b[14] = ':'
	b[15], b[16] = digits2[2*mi], digits2[2*mi+1]
	b[17] = ':'
	b[18], b[19] = digits2[2*s], digits2[2*s+1]
	n := 20
	if ns := t.Nanosecond(); ns != 0 {
		b[n] = '.'
		for i := 9; i >= 1; i-- {
			b[n+i] = byte('0' + ns%10)
			ns /= 10
		}
		n += 10
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	b[n+1] = '"'
	return append(dst, b[:n+2]...), true
}

// civil is the date of a day counted from 1970-01-01 (Howard Hinnant's
// civil_from_days).
func civil(z int64) (year, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// The word-at-a-time tests: for each byte of a little-endian word, the
// lowest flagged byte is exact (borrows only flag bytes above a true hit).
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// zeroBytes flags (in each byte's top bit) the bytes of x that are zero.
func zeroBytes(x uint64) uint64 { return (x - lsb) &^ x }

// encodeSpecial flags the bytes encoding/json does not copy as they are:
// '"', '\\', '<', '>', '&', control bytes and bytes of multi-byte runes.
func encodeSpecial(w uint64) uint64 {
	m := (w - 0x20*lsb) &^ w // < 0x20
	m |= zeroBytes(w ^ ('"' * lsb))
	m |= zeroBytes(w ^ ('\\' * lsb))
	m |= zeroBytes(w ^ ('<' * lsb))
	m |= zeroBytes(w ^ ('>' * lsb))
	m |= zeroBytes(w ^ ('&' * lsb))
	return (m | w) & msb
}

// appendQuoted appends s as a JSON string exactly as encoding/json does
// (HTML-safe escapes, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD).
func appendQuoted(dst []byte, s string) []byte {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if encodeSpecial(binary.LittleEndian.Uint64(b[i:])) != 0 {
			return appendQuotedSlow(dst, s)
		}
	}
	for ; i < len(b); i++ {
		if !htmlSafe[b[i]] {
			return appendQuotedSlow(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// htmlSafe is true for the ASCII bytes encoding/json copies as they are.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendQuotedSlow is encoding/json's appendString with escapeHTML.
func appendQuotedSlow(dst []byte, src string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}
