//go:build linux

package sunrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// An Encoder appends XDR (RFC 4506) items to a byte slice.
// Its zero value is ready to use.
type Encoder struct {
	buf []byte
}

// Bytes returns what has been encoded so far.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uint32 encodes an unsigned int.
func (e *Encoder) Uint32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }

// Uint64 encodes an unsigned hyper.
func (e *Encoder) Uint64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// Bool encodes a bool as 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.Uint32(1)
	} else {
		e.Uint32(0)
	}
}

// Fixed encodes fixed-length opaque data: the bytes, padded to a multiple
// of four.
func (e *Encoder) Fixed(p []byte) {
	e.buf = append(e.buf, p...)
	e.pad(len(p))
}

// Opaque encodes variable-length opaque data: its length, then the bytes,
// padded.
func (e *Encoder) Opaque(p []byte) {
	e.Uint32(uint32(len(p)))
	e.Fixed(p)
}

// String encodes a string as variable-length opaque data.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s)))
	e.buf = append(e.buf, s...)
	e.pad(len(s))
}

func (e *Encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.buf = append(e.buf, 0)
	}
}

// ErrShort is the error of a Decoder that ran past the end of its data.
var ErrShort = errors.New("xdr: data ends early")

// A Decoder reads XDR items from a byte slice. The first error sticks:
// after it every read returns zero values, and Err reports it, so a caller
// can decode a whole structure and check once.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder returns a Decoder reading p.
func NewDecoder(p []byte) *Decoder { return &Decoder{buf: p} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Rest returns the bytes not yet decoded.
func (d *Decoder) Rest() []byte { return d.buf }

// Fail records err as the decoder's error if it has none yet.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf) {
		d.err = ErrShort
		d.buf = nil
		return nil
	}
	p := d.buf[:n:n]
	d.buf = d.buf[n:]
	return p
}

// Uint32 decodes an unsigned int.
func (d *Decoder) Uint32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// Uint64 decodes an unsigned hyper.
func (d *Decoder) Uint64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// Bool decodes a bool; a value other than 0 or 1 is an error.
func (d *Decoder) Bool() bool {
	v := d.Uint32()
	if v > 1 {
		d.Fail(fmt.Errorf("xdr: bool is %d", v))
		return false
	}
	return v == 1
}

// Fixed decodes n bytes of fixed-length opaque data and its padding.
// The result aliases the decoder's input.
func (d *Decoder) Fixed(n int) []byte {
	p := d.take(n)
	d.take((4 - n%4) % 4)
	return p
}

// Opaque decodes variable-length opaque data of at most max bytes
// (max < 0: no limit). The result aliases the decoder's input.
func (d *Decoder) Opaque(max int) []byte {
	n := d.Uint32()
	if d.err != nil {
		return nil
	}
	if max >= 0 && n > uint32(max) {
		d.Fail(fmt.Errorf("xdr: opaque of %d bytes, at most %d allowed", n, max))
		return nil
	}
	if uint64(n) > uint64(len(d.buf)) {
		d.Fail(ErrShort)
		return nil
	}
	return d.Fixed(int(n))
}

// String decodes a string of at most max bytes (max < 0: no limit).
func (d *Decoder) String(max int) string { return string(d.Opaque(max)) }
