package links

import (
	"math/rand/v2"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// slicerType is the toxic AddToxic runs for type "slicer": toxiproxy's
// slicer, made to give way. Toxiproxy 2.5's own sends every slice to its
// output without watching for an interrupt; when a connection's writer
// fails (its peer closed) while the toxic is being taken off, the writer
// waits for the lock the removal holds and the removal waits for the
// slicer to hand on its slice: RemoveToxic never returns (seen in the
// fault matrix, with every later connection on the link stuck behind it).
const slicerType = "slicer-interruptible"

// slicerFlush bounds the hand-on of what is left of a chunk when the
// slicer is interrupted: a live connection takes it at once, a dead one
// never will.
const slicerFlush = time.Second

// slicer cuts each chunk into slices of AverageSize ± SizeVariation bytes,
// Delay µs apart, as toxiproxy's slicer does.
type slicer struct {
	AverageSize   int `json:"average_size"`
	SizeVariation int `json:"size_variation"`
	Delay         int `json:"delay"`
}

func init() { toxics.Register(slicerType, new(slicer)) }

// cuts returns the slices' offsets as pairs, halving the range until a
// piece is within the variation of the average size (toxiproxy's chunk).
func (t *slicer) cuts(start, end int) []int {
	if (end-start)-t.AverageSize <= t.SizeVariation {
		return []int{start, end}
	}
	mid := start + (end-start)/2
	if t.SizeVariation > 0 {
		mid += rand.IntN(t.SizeVariation*2) - t.SizeVariation
	}
	return append(t.cuts(start, mid), t.cuts(mid, end)...)
}

func (t *slicer) Pipe(stub *toxics.ToxicStub) {
	delay := time.Duration(t.Delay) * time.Microsecond
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			cuts := t.cuts(0, len(c.Data))
			for i := 1; i < len(cuts); i += 2 {
				slice := &stream.StreamChunk{Data: c.Data[cuts[i-1]:cuts[i]], Timestamp: c.Timestamp}
				select {
				case stub.Output <- slice:
				case <-stub.Interrupt:
					flushRest(stub, c, cuts[i-1])
					return
				}
				select {
				case <-time.After(delay):
				case <-stub.Interrupt:
					flushRest(stub, c, cuts[i])
					return
				}
			}
		}
	}
}

// flushRest hands on the chunk from offset on, for the toxic that follows.
func flushRest(stub *toxics.ToxicStub, c *stream.StreamChunk, from int) {
	if from >= len(c.Data) {
		return
	}
	_ = stub.WriteOutput(&stream.StreamChunk{Data: c.Data[from:], Timestamp: c.Timestamp}, slicerFlush)
}
