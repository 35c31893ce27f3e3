package history

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sync"
	"unsafe"
)

// Read's pipeline.
//
// A reader goroutine reads the input in blocks of whole lines, splits them
// into lines and gives every line that starts as Write writes a request line
// the next slot of the history's requests. Workers (as many as there are
// processors, up to maxReadWorkers) decode the lines of a block with the
// fast decoder, each with its own decoder, straight into those slots. The
// caller's goroutine then takes the blocks in order and decodes every line
// the fast decoder left (meta, faults, final, unusual requests) with
// encoding/json, so the result, the replacement rules and the first error
// are those of reading line by line. A slotted line that is no request, or
// a request in a line without a slot, is put right at the end.
//
// The first block is decoded by the caller before the workers start: what
// it used sizes the memory pools of the rest (pool.go) when the input's size
// is known.

const (
	maxReadWorkers = 4
	blocksInFlight = 8 // bounds memory: blocks read but not yet assembled
)

// blockSize is how many bytes are read at a time (a longer line grows its
// block); a variable so that tests can cut small blocks.
var blockSize = 1 << 20

func readWorkers() int { return min(runtime.GOMAXPROCS(0), maxReadWorkers) }

// block is a run of whole lines and what the fast decoder made of them.
type block struct {
	data []byte
	refs []lineRef // its non-blank lines
	dst  []Request // the requests' slots (all of them: slots are absolute)
	slow []int     // refs the fast decoder left, in order
	done chan bool // closed when decoded
	ack  chan bool // set on a barrier: no lines, closed when reached
}

// lineRef is one non-blank line of a block.
type lineRef struct {
	start, end int  // data[start:end], with its newline
	num        int  // line number, from 1
	slot       int  // its slot; for a line without one, the next line's slot
	slotted    bool // it starts as a request line
}

// lineReader cuts its input into blocks of whole lines.
type lineReader struct {
	r     io.Reader
	carry []byte // the start of a line the last block did not hold
	eof   bool
	err   error // the first read error other than io.EOF
}

// next fills blk.data with the next whole lines (the last line of the
// input may lack its newline); false when no data is left. After a read
// error the unfinished line is dropped and lr.err is set.
func (lr *lineReader) next(blk *block) bool {
	buf := blk.data[:0]
	if cap(buf) < blockSize {
		buf = make([]byte, 0, blockSize)
	}
	buf = append(buf, lr.carry...)
	lr.carry = lr.carry[:0]
	empty := 0
	for {
		for len(buf) < cap(buf) && !lr.eof && lr.err == nil {
			n, err := lr.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			switch {
			case err == io.EOF:
				lr.eof = true
			case err != nil:
				lr.err = err
			case n == 0:
				if empty++; empty >= 100 {
					lr.err = io.ErrNoProgress
				}
			}
		}
		if lr.eof {
			break
		}
		k := bytes.LastIndexByte(buf, '\n')
		if lr.err != nil {
			buf = buf[:k+1] // the unfinished line is not decoded
			break
		}
		if k >= 0 {
			lr.carry = append(lr.carry, buf[k+1:]...)
			buf = buf[:k+1]
			break
		}
		buf = slices.Grow(buf, len(buf)) // one line longer than the block
	}
	blk.data = buf
	return len(buf) > 0
}

// sizeHint is how many bytes r has left, when it can tell; 0 otherwise.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, bytes.Buffer, strings.Reader
		return int64(v.Len())
	case interface {
		Stat() (fs.FileInfo, error)
		io.Seeker
	}: // *os.File
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return fi.Size() - off
	}
	return 0
}

// splitter numbers lines and hands out request slots, block by block.
type splitter struct {
	lr    lineReader
	hint  int64     // bytes of input expected, 0 when unknown
	line  int       // lines so far
	reqs  []Request // the slots handed out (len) and room for more (cap)
	count int       // slotted lines of the block being split
	bytes int64     // bytes of the blocks given slots so far
}

// split finds blk's lines and numbers its slotted ones from len(s.reqs).
func (s *splitter) split(blk *block) {
	blk.refs = blk.refs[:0]
	data := blk.data
	next := len(s.reqs)
	for start := 0; start < len(data); {
		end := len(data)
		if k := bytes.IndexByte(data[start:], '\n'); k >= 0 {
			end = start + k + 1
		}
		s.line++
		ref := lineRef{start: start, end: end, num: s.line, slot: next}
		if hasPrefixAt(data, start, requestPrefix) {
			ref.slotted = true
			next++
			blk.refs = append(blk.refs, ref)
		} else if len(bytes.TrimSpace(data[start:end])) > 0 {
			blk.refs = append(blk.refs, ref) // blank lines are skipped
		}
		start = end
	}
	s.count = next - len(s.reqs)
}

// fits reports whether the slots of the block just split fit without
// moving the requests.
func (s *splitter) fits() bool { return len(s.reqs)+s.count <= cap(s.reqs) }

// grow makes room for the block just split, and prefaults it
// (prefault_linux.go). Nothing may be decoding into the slots meanwhile.
func (s *splitter) grow(blk *block) {
	s.reserve(s.room(blk))
	s.prefault()
}

// room is how many slots to make room for at the block just split: when
// the input's size is known, guessed from it and the bytes per request line
// so far (the first time: of this block), so that a file's requests are
// allocated once and a guess short by a little grows by a little; else
// twice as many as now.
func (s *splitter) room(blk *block) int {
	need := len(s.reqs) + s.count
	n := max(2*cap(s.reqs), need)
	if seen := s.bytes + int64(len(blk.data)); s.hint > seen && need > 0 {
		rest := (s.hint - seen) / max(seen/int64(need), 1)
		n = need + max(int(rest+rest/32)+64, need/8)
	}
	return n
}

// reserve makes room for n slots in all.
func (s *splitter) reserve(n int) {
	s.reqs = slices.Grow(s.reqs, n-len(s.reqs))
}

// prefault maps the room not handed out yet.
func (s *splitter) prefault() {
	if free := s.reqs[len(s.reqs):cap(s.reqs)]; len(free) > 0 {
		prefault(unsafe.Pointer(unsafe.SliceData(free)), uintptr(len(free))*unsafe.Sizeof(Request{}))
	}
}

// prepare splits blk and gives it its slots, growing them when needed
// (only where nothing decodes meanwhile).
func (s *splitter) prepare(blk *block) {
	s.split(blk)
	if !s.fits() {
		s.grow(blk)
	}
	s.assign(blk)
}

// assign gives blk its slots.
func (s *splitter) assign(blk *block) {
	s.reqs = s.reqs[:len(s.reqs)+s.count]
	s.bytes += int64(len(blk.data))
	blk.dst = s.reqs
}

// decode decodes blk's slotted lines into their slots and notes the others.
func (blk *block) decode(d *decoder) {
	blk.slow = blk.slow[:0]
	for i := range blk.refs {
		ref := &blk.refs[i]
		if ref.slotted {
			r := &blk.dst[ref.slot]
			if d.requestLine(blk.data[ref.start:ref.end], r) {
				continue
			}
			*r = Request{}
		}
		blk.slow = append(blk.slow, i)
	}
}

// assembler applies the lines the fast decoder left, block by block in order.
type assembler struct {
	h       *History
	faultAt map[int]int // fault id -> index in h.Faults
	fix     []fixup     // slots to drop or requests to insert, in line order
}

// fixup is a slotted line that held no request (drop) or a request found
// in a line without a slot (insert before slot at).
type fixup struct {
	at   int
	drop bool
	req  Request
}

func (a *assembler) add(blk *block) error {
	for _, i := range blk.slow {
		ref := &blk.refs[i]
		req, err := decodeLine(a.h, a.faultAt, blk.data[ref.start:ref.end])
		if err != nil {
			return fmt.Errorf("history: line %d: %w", ref.num, err)
		}
		switch {
		case ref.slotted && req != nil:
			blk.dst[ref.slot] = *req
		case ref.slotted:
			a.fix = append(a.fix, fixup{at: ref.slot, drop: true})
		case req != nil:
			a.fix = append(a.fix, fixup{at: ref.slot, req: *req})
		}
	}
	return nil
}

// finish returns the history, or the read error with the number of the line
// it interrupted.
func (a *assembler) finish(s *splitter) (*History, error) {
	if s.lr.err != nil {
		return nil, fmt.Errorf("history: line %d: %w", s.line+1, s.lr.err)
	}
	reqs := s.reqs
	if len(a.fix) > 0 {
		out := make([]Request, 0, len(reqs)+len(a.fix))
		j := 0
		for _, f := range a.fix {
			out = append(out, reqs[j:f.at]...)
			j = f.at
			if f.drop {
				j++
			} else {
				out = append(out, f.req)
			}
		}
		reqs = append(out, reqs[j:]...)
	}
	if len(reqs) > 0 {
		a.h.Requests = reqs
	}
	return a.h, nil
}

// read is Read with up to workers decoding goroutines.
func read(r io.Reader, workers int) (*History, error) {
	s := &splitter{lr: lineReader{r: r}, hint: sizeHint(r)}
	a := &assembler{h: &History{}, faultAt: map[int]int{}}
	blk := &block{}
	if !s.lr.next(blk) {
		return a.finish(s)
	}
	// The first block, here: what it used sizes the memory pools of the
	// rest (pool.go).
	d := newDecoder()
	s.prepare(blk)
	blk.decode(d)
	if s.hint > 0 && s.count > 0 {
		d.pools = newPools(&d.used, float64(cap(s.reqs))/float64(s.count))
	}
	if err := a.add(blk); err != nil {
		return nil, err
	}
	if s.lr.eof || s.lr.err != nil || workers <= 1 {
		// All of it in one block, or no parallelism: here, block by block.
		for s.lr.next(blk) {
			s.prepare(blk)
			blk.decode(d)
			if err := a.add(blk); err != nil {
				return nil, err
			}
		}
		return a.finish(s)
	}

	work := make(chan *block, blocksInFlight)
	order := make(chan *block, blocksInFlight)
	free := make(chan *block, blocksInFlight+2)
	quit := make(chan bool)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			wd := d // the first worker goes on with the first block's decoder
			if w > 0 {
				wd = newDecoder()
				wd.pools = d.pools
			}
			for blk := range work {
				blk.decode(wd)
				close(blk.done)
			}
		})
	}
	send := func(blk *block) bool {
		select {
		case order <- blk:
			return true
		case <-quit:
			return false
		}
	}
	wg.Go(func() { // the reader: splits, hands out slots, dispatches
		defer close(work)
		defer close(order)
		for {
			var blk *block
			select {
			case blk = <-free:
			default:
				blk = &block{}
			}
			if !s.lr.next(blk) {
				return
			}
			s.split(blk)
			if !s.fits() {
				// Moving the slots: wait until every block sent is
				// decoded and assembled.
				barrier := &block{ack: make(chan bool)}
				if !send(barrier) {
					return
				}
				select {
				case <-barrier.ack:
				case <-quit:
					return
				}
				s.grow(blk)
			}
			s.assign(blk)
			blk.done = make(chan bool)
			if !send(blk) {
				return
			}
			work <- blk
		}
	})
	for blk := range order {
		if blk.ack != nil {
			close(blk.ack)
			continue
		}
		<-blk.done
		if err := a.add(blk); err != nil {
			close(quit)
			for range order { // until the reader stops; workers finish what they hold
			}
			wg.Wait()
			return nil, err
		}
		select {
		case free <- blk:
		default:
		}
	}
	wg.Wait()
	return a.finish(s)
}
