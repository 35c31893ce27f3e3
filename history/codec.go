package history

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unsafe"
)

// The fast codec of request records.
//
// A history is mostly request lines (millions in a long run), so those are
// encoded and decoded by a codec built once, by reflection, from the struct
// tags of Request and of the structs it points to, the same way
// encoding/json reads them: every exported field, in declaration order,
// with its JSON name and its omitempty/omitzero options. Fields of the
// common kinds (strings, integers, booleans, time.Time, []string, pointers
// to such structs) are written and read directly through their offsets; a
// field of any other type (a map, a float, a type with its own
// MarshalJSON…) is handed to encoding/json on its own. A field added to
// Request is therefore covered without touching this file.
//
// The codec only accelerates: whatever it is not sure to do exactly as
// encoding/json does (an escape it does not know, a duplicate or unknown
// key, a null, a number that overflows, invalid UTF-8, a time it cannot
// format) makes it give up on that line, and encoding/json handles the
// whole line as before, with its result or its error. Tests check that
// both give the same bytes and the same values.

// kind is how the fast codec handles one field.
type kind uint8

const (
	kindString  kind = iota + 1 // string kinds (Op too)
	kindBool                    // bool kinds
	kindInt                     // signed integer kinds (time.Duration too)
	kindUint                    // unsigned integer kinds
	kindTime                    // time.Time, as RFC 3339 with nanoseconds
	kindStrings                 // []string
	kindStruct                  // pointer to a struct with its own codec
	kindJSON                    // anything else: encoding/json for this field
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindBool:
		return "bool"
	case kindInt:
		return "int"
	case kindUint:
		return "uint"
	case kindTime:
		return "time"
	case kindStrings:
		return "[]string"
	case kindStruct:
		return "*struct"
	case kindJSON:
		return "encoding/json"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// codecField is one JSON field of a struct.
type codecField struct {
	name      string       // JSON key
	key       []byte       // ,"name": as encoding/json writes it (leading comma)
	quoted    string       // "name" as the decoder matches it (no escapes)
	keyWord   [2]uint64    // quoted's first 16 bytes, little-endian, zero-padded
	keyMask   [2]uint64    // which bytes of keyWord count
	slot      int          // index of the decoder's per-field state
	goName    string       // Go field name, for messages
	off       uintptr      // offset in the struct
	typ       reflect.Type // the field's type
	size      uintptr      // typ.Size(), for the integer kinds
	kind      kind
	omitEmpty bool
	omitZero  bool
	sub       *structCodec // kindStruct: the pointed-to struct
}

// maxFields bounds the fields of one struct (the decoder's set of seen keys).
const maxFields = 256

// structCodec is the fast codec of one struct type.
type structCodec struct {
	typ    reflect.Type
	id     int // index of the decoder's slab for this type
	fields []codecField
}

// codecs are the built struct codecs, by type; building happens once, at init.
type codecBuilder struct {
	mu     sync.Mutex // held by codecFor and codecSizes (init needs none)
	byType map[reflect.Type]*structCodec
	all    []*structCodec
	slots  int // fields numbered so far
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	stringType   = reflect.TypeFor[string]()
	customIfaces = []reflect.Type{
		reflect.TypeFor[json.Marshaler](),
		reflect.TypeFor[json.Unmarshaler](),
		reflect.TypeFor[encoding.TextMarshaler](),
		reflect.TypeFor[encoding.TextUnmarshaler](),
	}
	zeroerType = reflect.TypeFor[interface{ IsZero() bool }]()
)

// requestCodec is the codec of Request; nil when Request has a field the
// codec cannot mirror exactly (then encoding/json does everything and
// TestFastCodecCoversRequest fails, naming the field).
var (
	requestCodec    *structCodec
	requestCodecErr error
	codecs          = &codecBuilder{byType: map[reflect.Type]*structCodec{}}
)

func init() {
	requestCodec, requestCodecErr = codecs.build(reflect.TypeFor[Request]())
	if requestCodecErr != nil {
		requestCodec = nil
	}
}

// codecFor builds (once) the codec of another struct type: for tests.
func codecFor(t reflect.Type) (*structCodec, error) {
	codecs.mu.Lock()
	defer codecs.mu.Unlock()
	return codecs.build(t)
}

// codecStructs is the struct codec of an id.
func codecStructs(id int) *structCodec {
	codecs.mu.Lock()
	defer codecs.mu.Unlock()
	return codecs.all[id]
}

// codecSizes are the struct codecs and fields built so far: what a decoder
// keeps state for.
func codecSizes() (structs, slots int) {
	codecs.mu.Lock()
	defer codecs.mu.Unlock()
	return len(codecs.all), codecs.slots
}

// customJSON reports whether encoding/json treats t specially (a marshaler
// or unmarshaler of its own, on the value or the pointer).
func customJSON(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, i := range customIfaces {
		if t.Implements(i) || pt.Implements(i) {
			return true
		}
	}
	return false
}

// build makes the codec of struct type t, mirroring encoding/json's field
// rules. It refuses what it does not mirror: embedded fields, the ",string"
// option, omitzero on a type with an IsZero method other than time.Time,
// duplicate names.
func (b *codecBuilder) build(t reflect.Type) (*structCodec, error) {
	if c, ok := b.byType[t]; ok {
		return c, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%v is not a struct", t)
	}
	c := &structCodec{typ: t, id: len(b.all)}
	b.byType[t] = c // before the fields: a struct may point to itself
	b.all = append(b.all, c)
	names := map[string]string{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil, fmt.Errorf("%v.%s: embedded fields are not mirrored by the fast codec", t, sf.Name)
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !isValidTag(name) {
			name = ""
		}
		if name == "" {
			name = sf.Name
		}
		f := codecField{name: name, goName: sf.Name, off: sf.Offset, typ: sf.Type, size: sf.Type.Size()}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
			case "string":
				return nil, fmt.Errorf("%v.%s: the \",string\" option is not mirrored by the fast codec", t, sf.Name)
			}
		}
		if prev, dup := names[name]; dup {
			return nil, fmt.Errorf("%v.%s: JSON name %q already used by %s", t, sf.Name, name, prev)
		}
		names[name] = sf.Name
		if f.omitZero && sf.Type != timeType && (sf.Type.Implements(zeroerType) || reflect.PointerTo(sf.Type).Implements(zeroerType)) {
			return nil, fmt.Errorf("%v.%s: omitzero with an IsZero method is not mirrored by the fast codec", t, sf.Name)
		}
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		f.key = append(append([]byte{','}, k...), ':')
		f.quoted = `"` + name + `"`
		for j := 0; j < len(f.quoted) && j < 16; j++ {
			f.keyWord[j/8] |= uint64(f.quoted[j]) << (8 * (j % 8))
			f.keyMask[j/8] |= 0xff << (8 * (j % 8))
		}
		f.slot = b.slots
		b.slots++
		f.kind, f.sub = b.kindOf(sf.Type)
		c.fields = append(c.fields, f)
	}
	if len(c.fields) > maxFields {
		return nil, fmt.Errorf("%v has %d JSON fields, the fast codec at most %d", t, len(c.fields), maxFields)
	}
	return c, nil
}

// kindOf says how the codec handles a field of type t.
func (b *codecBuilder) kindOf(t reflect.Type) (kind, *structCodec) {
	if t == timeType {
		return kindTime, nil
	}
	if customJSON(t) {
		return kindJSON, nil
	}
	switch t.Kind() {
	case reflect.String:
		return kindString, nil
	case reflect.Bool:
		return kindBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint, nil
	case reflect.Slice:
		if t.Elem() == stringType {
			return kindStrings, nil
		}
	case reflect.Pointer:
		e := t.Elem()
		if e.Kind() == reflect.Struct && e != timeType && !customJSON(e) {
			if sub, err := b.build(e); err == nil {
				return kindStruct, sub
			}
			delete(b.byType, e) // not mirrored: encoding/json does this field
		}
	}
	return kindJSON, nil
}

// isValidTag is encoding/json's rule for a usable name in a tag.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// fieldValue is the field at p as a reflect.Value (addressable).
func (f *codecField) fieldValue(p unsafe.Pointer) reflect.Value {
	return reflect.NewAt(f.typ, p).Elem()
}
