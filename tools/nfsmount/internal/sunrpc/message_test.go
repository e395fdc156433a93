//go:build linux

package sunrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestEncodeCall(t *testing.T) {
	msg := encodeCall(0x11223344, 100003, 3, 15, AuthNone, []byte{0xaa, 0xbb, 0xcc, 0xdd})
	want := []byte{
		0x80, 0, 0, 44, // record mark: last fragment, 44 bytes
		0x11, 0x22, 0x33, 0x44, // xid
		0, 0, 0, 0, // CALL
		0, 0, 0, 2, // RPC version 2
		0, 1, 0x86, 0xa3, // program 100003
		0, 0, 0, 3, // version
		0, 0, 0, 15, // procedure
		0, 0, 0, 0, 0, 0, 0, 0, // credential AUTH_NONE
		0, 0, 0, 0, 0, 0, 0, 0, // verifier AUTH_NONE
		0xaa, 0xbb, 0xcc, 0xdd, // arguments
	}
	if !bytes.Equal(msg, want) {
		t.Fatalf("call record:\n got % x\nwant % x", msg, want)
	}
	re := withXID(msg, 0x55667788)
	if binary.BigEndian.Uint32(re[4:]) != 0x55667788 || binary.BigEndian.Uint32(msg[4:]) != 0x11223344 {
		t.Errorf("withXID: new copy has xid %#x and the original %#x; want 0x55667788 and the original unchanged",
			binary.BigEndian.Uint32(re[4:]), binary.BigEndian.Uint32(msg[4:]))
	}
}

func TestReadRecordFragments(t *testing.T) {
	var stream []byte
	frag := func(last bool, p []byte) {
		h := uint32(len(p))
		if last {
			h |= lastFragment
		}
		stream = binary.BigEndian.AppendUint32(stream, h)
		stream = append(stream, p...)
	}
	frag(false, []byte("abc"))
	frag(false, nil)
	frag(true, []byte("defg"))
	frag(true, []byte("second"))
	r := bytes.NewReader(stream)
	for _, want := range []string{"abcdefg", "second"} {
		rec, err := readRecord(r)
		if err != nil || string(rec) != want {
			t.Fatalf("readRecord: %q, %v; want %q", rec, err, want)
		}
	}
	if _, err := readRecord(r); err != io.EOF {
		t.Errorf("readRecord at the end: %v, want EOF", err)
	}
	if _, err := readRecord(bytes.NewReader(stream[:10])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("readRecord of a cut record: %v, want ErrUnexpectedEOF", err)
	}
}

// reply builds a reply record (without record mark).
func reply(xid uint32, build func(e *Encoder)) []byte {
	var e Encoder
	e.Uint32(xid)
	e.Uint32(msgReply)
	build(&e)
	return e.Bytes()
}

func TestDecodeReply(t *testing.T) {
	ok := reply(1, func(e *Encoder) {
		e.Uint32(replyAccepted)
		e.auth(AuthNone)
		e.Uint32(Success)
		e.Uint32(42)
	})
	d, err := decodeReply(ok)
	if err != nil || d.Uint32() != 42 {
		t.Errorf("accepted reply: err %v; want the results (42)", err)
	}
	tests := []struct {
		name string
		rec  []byte
		want RPCError
	}{
		{"program mismatch", reply(2, func(e *Encoder) {
			e.Uint32(replyAccepted)
			e.auth(AuthNone)
			e.Uint32(ProgMismatch)
			e.Uint32(2)
			e.Uint32(4)
		}), RPCError{Stat: ProgMismatch}},
		{"procedure unavailable", reply(3, func(e *Encoder) {
			e.Uint32(replyAccepted)
			e.auth(AuthNone)
			e.Uint32(ProcUnavail)
		}), RPCError{Stat: ProcUnavail}},
		{"auth error", reply(4, func(e *Encoder) {
			e.Uint32(replyDenied)
			e.Uint32(AuthError)
			e.Uint32(1)
		}), RPCError{Denied: true, Stat: AuthError}},
	}
	for _, tt := range tests {
		_, err := decodeReply(tt.rec)
		var re *RPCError
		if !errors.As(err, &re) || re.Denied != tt.want.Denied || re.Stat != tt.want.Stat {
			t.Errorf("%s: error %v, want denied=%v stat %d", tt.name, err, tt.want.Denied, tt.want.Stat)
		}
	}
	if _, err := decodeReply(reply(5, func(e *Encoder) { e.Uint32(replyAccepted) })); err == nil {
		t.Error("a reply cut short: no error, want one")
	}
	if x, err := replyXID(ok); err != nil || x != 1 {
		t.Errorf("replyXID: %d, %v; want 1", x, err)
	}
}
