package history

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// pools are the memory the decoders of one large Read share: one array per
// struct type (TLSFacts, Seen), one for string bytes and one for []string
// elements, sized from what decoding the first block used, scaled to the
// input's size, and handed out to the decoders in slab-sized batches.
//
// Allocating what a read will need at its start, next to the requests,
// moves the collections it causes to its start, where the heap is still
// empty, instead of a last one near the end that marks everything decoded so
// far. (Collection costs a 1M-request read about a quarter of its time; the
// pools took 8 % off it: BENCHMARKS.md, "History codec".) When a pool runs
// out, decoders allocate their own slabs as before.
type pools struct {
	structs []structPool // by struct codec id
	bytes   slicePool[byte]
	strs    slicePool[string]
}

// structPool is one presized array of a struct type.
type structPool struct {
	base unsafe.Pointer // nil: no pool for this type
	size uintptr
	n    int64
	next atomic.Int64
}

// take returns k consecutive zeroed elements, or false when the pool has
// not that many left.
func (p *structPool) take(k int) (unsafe.Pointer, bool) {
	if p.base == nil {
		return nil, false
	}
	end := p.next.Add(int64(k))
	if end > p.n {
		return nil, false
	}
	return unsafe.Add(p.base, uintptr(end-int64(k))*p.size), true
}

// slicePool is one presized slice handed out in pieces.
type slicePool[T any] struct {
	all  []T
	next atomic.Int64
}

// take returns an empty slice with room for k elements, or false.
func (p *slicePool[T]) take(k int) ([]T, bool) {
	if p.all == nil {
		return nil, false
	}
	end := p.next.Add(int64(k))
	if end > int64(len(p.all)) {
		return nil, false
	}
	return p.all[end-int64(k) : end-int64(k) : end], true
}

// usage is what a decoder allocated: what pools are sized from.
type usage struct {
	structs  []int // by struct codec id
	strBytes int
	strs     int
}

// minPoolFactor: pools are made only for inputs this many times larger than
// the block they are estimated from.
const minPoolFactor = 4

// newPools sizes pools from u, what decoding a sample of the input used,
// scaled by factor (the input's expected size over the sample's), with 1/16
// to spare, and prefaults them (prefault_linux.go); nil when the input is
// not large enough to be worth it.
func newPools(u *usage, factor float64) *pools {
	if factor < minPoolFactor {
		return nil
	}
	scale := func(n, batch int) int {
		if n == 0 {
			return 0
		}
		m := int(float64(n) * factor)
		return m + m/16 + batch
	}
	p := &pools{structs: make([]structPool, len(u.structs))}
	for id, n := range u.structs {
		if m := scale(n, slabLen); m > 0 {
			c := codecStructs(id)
			sp := &p.structs[id]
			sp.base = reflect.MakeSlice(reflect.SliceOf(c.typ), m, m).UnsafePointer()
			sp.size = c.typ.Size()
			sp.n = int64(m)
			prefault(sp.base, uintptr(m)*sp.size)
		}
	}
	if m := scale(u.strBytes, chunkSize); m > 0 {
		p.bytes.all = make([]byte, m)
		prefault(unsafe.Pointer(unsafe.SliceData(p.bytes.all)), uintptr(m))
	}
	if m := scale(u.strs, strsSlabLen); m > 0 {
		p.strs.all = make([]string, m)
		prefault(unsafe.Pointer(unsafe.SliceData(p.strs.all)), uintptr(m)*unsafe.Sizeof(""))
	}
	return p
}
