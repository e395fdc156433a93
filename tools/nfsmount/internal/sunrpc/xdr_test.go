//go:build linux

package sunrpc

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncoder(t *testing.T) {
	tests := []struct {
		name string
		enc  func(e *Encoder)
		want []byte
	}{
		{"uint32", func(e *Encoder) { e.Uint32(0x01020304) }, []byte{1, 2, 3, 4}},
		{"uint64", func(e *Encoder) { e.Uint64(0x0102030405060708) }, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"bool", func(e *Encoder) { e.Bool(true); e.Bool(false) }, []byte{0, 0, 0, 1, 0, 0, 0, 0}},
		{"string padded", func(e *Encoder) { e.String("abcde") }, []byte{0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0}},
		{"string aligned", func(e *Encoder) { e.String("abcd") }, []byte{0, 0, 0, 4, 'a', 'b', 'c', 'd'}},
		{"empty opaque", func(e *Encoder) { e.Opaque(nil) }, []byte{0, 0, 0, 0}},
		{"fixed padded", func(e *Encoder) { e.Fixed([]byte{9, 9}) }, []byte{9, 9, 0, 0}},
	}
	for _, tt := range tests {
		var e Encoder
		tt.enc(&e)
		if !bytes.Equal(e.Bytes(), tt.want) {
			t.Errorf("%s: encoded % x, want % x", tt.name, e.Bytes(), tt.want)
		}
	}
}

func TestDecoderRoundTrip(t *testing.T) {
	var e Encoder
	e.Uint32(7)
	e.Uint64(1 << 40)
	e.Bool(true)
	e.String("hello")
	e.Opaque([]byte{1, 2, 3})
	e.Fixed([]byte{4, 5, 6, 7, 8})
	e.Uint32(9)
	d := NewDecoder(e.Bytes())
	if v := d.Uint32(); v != 7 {
		t.Errorf("Uint32: got %d, want 7", v)
	}
	if v := d.Uint64(); v != 1<<40 {
		t.Errorf("Uint64: got %d, want %d", v, uint64(1<<40))
	}
	if !d.Bool() {
		t.Error("Bool: got false, want true")
	}
	if s := d.String(10); s != "hello" {
		t.Errorf("String: got %q, want hello", s)
	}
	if p := d.Opaque(-1); !bytes.Equal(p, []byte{1, 2, 3}) {
		t.Errorf("Opaque: got % x, want 01 02 03", p)
	}
	if p := d.Fixed(5); !bytes.Equal(p, []byte{4, 5, 6, 7, 8}) {
		t.Errorf("Fixed: got % x, want 04 05 06 07 08", p)
	}
	if v := d.Uint32(); v != 9 {
		t.Errorf("the item after the padding: got %d, want 9", v)
	}
	if d.Err() != nil || len(d.Rest()) != 0 {
		t.Errorf("after everything: error %v, %d bytes left; want none", d.Err(), len(d.Rest()))
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		dec  func(d *Decoder)
	}{
		{"short uint32", []byte{1, 2}, func(d *Decoder) { d.Uint32() }},
		{"short uint64", []byte{1, 2, 3, 4}, func(d *Decoder) { d.Uint64() }},
		{"bool 2", []byte{0, 0, 0, 2}, func(d *Decoder) { d.Bool() }},
		{"opaque past the end", []byte{0, 0, 0, 9, 1, 2, 3, 4}, func(d *Decoder) { d.Opaque(-1) }},
		{"opaque over its limit", []byte{0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0}, func(d *Decoder) { d.Opaque(4) }},
		{"missing padding", []byte{0, 0, 0, 1, 'x'}, func(d *Decoder) { d.String(-1) }},
	}
	for _, tt := range tests {
		d := NewDecoder(tt.data)
		tt.dec(d)
		if d.Err() == nil {
			t.Errorf("%s: no error, want one", tt.name)
		}
		// The error sticks: later reads give zero values.
		if v := d.Uint32(); v != 0 {
			t.Errorf("%s: a read after the error gave %d, want 0", tt.name, v)
		}
	}
	d := NewDecoder(nil)
	d.Uint32()
	if !errors.Is(d.Err(), ErrShort) {
		t.Errorf("reading past the end: error %v, want ErrShort", d.Err())
	}
}

func TestAuthSys(t *testing.T) {
	a := AuthSys(1, "host", 1000, 100, []uint32{4, 5})
	want := []byte{
		0, 0, 0, 1, // stamp
		0, 0, 0, 4, 'h', 'o', 's', 't', // machine name
		0, 0, 3, 0xe8, // uid 1000
		0, 0, 0, 100, // gid
		0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 5, // gids
	}
	if a.Flavor != AuthSysFlavor || !bytes.Equal(a.Body, want) {
		t.Errorf("AuthSys: flavor %d body % x, want flavor 1 body % x", a.Flavor, a.Body, want)
	}
}
