package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readLineByLine is Read as it was before the pipeline and the fast
// decoder: one line at a time, encoding/json only. The reference.
func readLineByLine(r io.Reader) (*History, error) {
	h := &History{}
	faultAt := map[int]int{}
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("history: line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			req, derr := decodeLine(h, faultAt, b)
			if derr != nil {
				return nil, fmt.Errorf("history: line %d: %w", n, derr)
			}
			if req != nil {
				h.Requests = append(h.Requests, *req)
			}
		}
		if err != nil {
			return h, nil
		}
	}
}

// oddHistory is a history file with everything the pipeline must put in
// its place: faults and metas between requests, blank lines, CRLF, request
// lines in other shapes (no slot), slotted lines that are no request or
// that the fast decoder leaves, a line longer than a block, no final
// newline.
func oddHistory(t testing.TB, n int) []byte {
	var b []byte
	add := func(s string) { b = append(b, s...) }
	add(`{"type":"meta","meta":{"run_id":"odd","seed":7}}` + "\n")
	reqs := realisticRequests(n, 5)
	for i := range reqs {
		switch i % 97 {
		case 3:
			add(`{"type":"fault","fault":{"id":1,"name":"provider-crash","injected":"2026-12-07T09:00:52Z"}}` + "\n")
		case 10:
			add("\n   \t\r\n")
		case 20:
			add(fmt.Sprintf(`{"request":{"seq":%d,"user":"reordered keys"},"type":"request"}`+"\n", -i))
		case 30:
			add(fmt.Sprintf(` { "type" : "request" , "request" : { "seq" : %d } }`+"\r\n", -i))
		case 40:
			add(`{"type":"request","request":{"seq":1},"type":"meta","meta":{"run_id":"odd-2"}}` + "\n")
		case 50:
			add(fmt.Sprintf(`{"type":"request","request":{"seq":%d,"seq":%d,"user":"dup"}}`+"\n", i, -i))
		case 60:
			add(`{"type":"fault","fault":{"id":1,"name":"provider-crash","recovered":"2026-12-07T09:00:53Z"}}` + "\n")
		case 70:
			add(`{"type":"request","request":{"user":"\ud83d\ude00","tls":null}}` + "\n")
		}
		l, err := appendLine(nil, line{Type: TypeRequest, Request: &reqs[i]})
		require.NoError(t, err)
		if i%97 == 80 {
			l = bytes.Replace(l, []byte("\n"), []byte("\r\n"), 1)
		}
		b = append(b, l...)
	}
	big := map[string]int{}
	for i := range 3000 {
		big[fmt.Sprintf("message-%06d", i)] = i
	}
	l, err := appendLine(nil, line{Type: TypeFinal, Final: &Final{Clearing: &ClearingState{Cleared: big}}})
	require.NoError(t, err)
	b = append(b, l...)
	add(`{"type":"request","request":{"seq":424242,"user":"last, no newline"}}`)
	return b
}

// onlyReader hides Len, Stat and Seek: no size hint, so slots grow.
type onlyReader struct{ io.Reader }

func withBlockSize(t *testing.T, n int) {
	old := blockSize
	blockSize = n
	t.Cleanup(func() { blockSize = old })
}

// TestReadPipelineMatchesLineByLine: whatever the block size, the number
// of workers and whether the size is known, Read gives what reading line
// by line with encoding/json gives.
func TestReadPipelineMatchesLineByLine(t *testing.T) {
	in := oddHistory(t, 3000)
	want, err := readLineByLine(bytes.NewReader(in))
	require.NoError(t, err)
	require.Greater(t, len(want.Requests), 3000)
	for _, bs := range []int{64, 4 << 10, 1 << 20} {
		for _, workers := range []int{1, 2, 4} {
			for _, hinted := range []bool{true, false} {
				t.Run(fmt.Sprintf("block=%d/workers=%d/hint=%v", bs, workers, hinted), func(t *testing.T) {
					withBlockSize(t, bs)
					var r io.Reader = bytes.NewReader(in)
					if !hinted {
						r = onlyReader{r}
					}
					got, err := read(r, workers)
					require.NoError(t, err)
					assert.Equal(t, want.Meta, got.Meta)
					assert.Equal(t, want.Faults, got.Faults)
					assert.Equal(t, want.Final, got.Final)
					require.Equal(t, len(want.Requests), len(got.Requests))
					for i := range want.Requests {
						require.Equal(t, want.Requests[i], got.Requests[i], "request %d", i)
					}
				})
			}
		}
	}
	t.Run("one byte at a time", func(t *testing.T) {
		withBlockSize(t, 4<<10)
		got, err := read(iotest.OneByteReader(bytes.NewReader(in)), 2)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}

// TestReadPipelineErrors: the first bad line is the one reported, with its
// number, as line by line; a read error names the line it interrupted.
func TestReadPipelineErrors(t *testing.T) {
	withBlockSize(t, 4<<10)
	good := oddHistory(t, 600)
	lines := strings.SplitAfter(string(good), "\n")
	bad := func(at ...int) []byte {
		ls := append([]string(nil), lines...)
		for _, i := range at {
			ls[i] = `{"type":"request","request":{"status":"x"}}` + "\n"
		}
		return []byte(strings.Join(ls, ""))
	}
	mk := map[string]func() io.Reader{
		"late bad line": func() io.Reader { return bytes.NewReader(bad(len(lines) - 40)) },
		"two bad lines": func() io.Reader { return bytes.NewReader(bad(len(lines)-40, 200)) },
		"unknown type": func() io.Reader {
			return bytes.NewReader(append(append([]byte(nil), good[:len(good)/2]...), "\n{\"type\":\"bogus\"}\n"...))
		},
		"read error": func() io.Reader {
			return io.MultiReader(bytes.NewReader(good[:len(good)/2]), iotest.ErrReader(errors.New("disk gone")))
		},
		"read error at a line's end": func() io.Reader {
			end := len(good)/2 + bytes.IndexByte(good[len(good)/2:], '\n') + 1
			return io.MultiReader(bytes.NewReader(good[:end]), iotest.ErrReader(errors.New("disk gone")))
		},
		"no progress": func() io.Reader { return io.MultiReader(bytes.NewReader(good[:5000]), zeroReader{}) },
	}
	for name, r := range mk {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(t *testing.T) {
				_, want := readLineByLine(r())
				require.Error(t, want)
				_, got := read(r(), workers)
				require.Error(t, got)
				assert.Equal(t, want.Error(), got.Error())
			})
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// lyingLen announces fewer bytes than it holds.
type lyingLen struct{ *bytes.Reader }

func (lyingLen) Len() int { return 1000 }

// TestReadSizesRequestsFromTheInput: a known size gives a requests slice
// allocated about once and not much larger than needed; a wrong size only
// costs growth.
func TestReadSizesRequestsFromTheInput(t *testing.T) {
	h := &History{Requests: realisticRequests(20_000, 3)}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	for _, workers := range []int{1, 2} {
		got, err := read(bytes.NewReader(buf.Bytes()), workers)
		require.NoError(t, err)
		require.Len(t, got.Requests, len(h.Requests))
		assert.LessOrEqual(t, cap(got.Requests), len(h.Requests)*11/10+64, "workers=%d", workers)

		got, err = read(lyingLen{bytes.NewReader(buf.Bytes())}, workers)
		require.NoError(t, err)
		assert.Equal(t, h.Requests, got.Requests)
	}
}

// TestPoolsRunOut: decoders whose shared pools are too small go on with
// slabs of their own, and what they decode is right either way.
func TestPoolsRunOut(t *testing.T) {
	reqs := realisticRequests(3000, 8)
	structs, _ := codecSizes()
	u := usage{structs: make([]int, structs), strBytes: 1, strs: 1}
	for i := range u.structs {
		u.structs[i] = 1
	}
	p := newPools(&u, minPoolFactor) // one batch of each, and a little
	require.NotNil(t, p)
	d := newDecoder()
	d.pools = p
	for i := range reqs {
		l, err := appendLine(nil, line{Type: TypeRequest, Request: &reqs[i]})
		require.NoError(t, err)
		var got Request
		require.True(t, d.requestLine(l, &got))
		require.Equal(t, reqs[i], got)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[TLSFacts](), reflect.TypeFor[Seen]()} {
		c, err := codecFor(typ)
		require.NoError(t, err)
		sp := &p.structs[c.id]
		assert.Greater(t, sp.next.Load(), sp.n, "the %v pool ran out", typ)
	}
	assert.Greater(t, p.bytes.next.Load(), int64(len(p.bytes.all)), "the string pool ran out")
	assert.Nil(t, newPools(&u, minPoolFactor-1), "no pools for small inputs")
}

// TestReadFileSizeHint: a file's remaining size sizes the requests; a pipe
// has none and still reads.
func TestReadFileSizeHint(t *testing.T) {
	h := &History{Meta: Meta{RunID: "file"}, Requests: realisticRequests(5000, 2)}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, h))
	path := t.TempDir() + "/h.jsonl"
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(100, io.SeekStart)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()-100), sizeHint(f))
	_, err = f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	got, err := Read(f)
	require.NoError(t, err)
	assert.Equal(t, h.Requests, got.Requests)

	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	go func() {
		_, _ = pw.Write(buf.Bytes())
		_ = pw.Close()
	}()
	assert.Zero(t, sizeHint(pr))
	got, err = Read(pr)
	require.NoError(t, err)
	assert.Equal(t, h.Requests, got.Requests)
}

// FuzzReadMatchesLineByLine: with blocks small enough that any input spans
// many, Read gives what reading line by line gives: the same history or the
// same error.
func FuzzReadMatchesLineByLine(f *testing.F) {
	f.Add(oddHistory(f, 40))
	f.Add([]byte("{\"type\":\"meta\",\"meta\":{}}\n\n{\"type\":\"request\",\"request\":{\"seq\":1}}\r\n{\"request\":{\"seq\":2},\"type\":\"request\"}"))
	f.Add([]byte(`{"type":"request","request":{"seq":1},"type":"meta","meta":{}}` + "\n" + `{"type":"bogus"}`))
	old := blockSize
	defer func() { blockSize = old }()
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := readLineByLine(bytes.NewReader(in))
		for _, bs := range []int{16, 256} {
			blockSize = bs
			for _, workers := range []int{1, 2} {
				got, err := read(bytes.NewReader(in), workers)
				if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
					t.Fatalf("block %d, %d workers: error %v, line by line %v", bs, workers, err, wantErr)
				}
				if err == nil && !reflect.DeepEqual(want, got) {
					t.Fatalf("block %d, %d workers: history differs from line by line", bs, workers)
				}
			}
		}
	})
}
