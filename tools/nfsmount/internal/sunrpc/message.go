//go:build linux

package sunrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	msgCall  = 0
	msgReply = 1

	replyAccepted = 0
	replyDenied   = 1

	// lastFragment marks the last fragment of a record (RFC 5531, section 11).
	lastFragment = 1 << 31
	// maxRecord bounds a record read from the server.
	maxRecord = 64 << 20
)

// Accept and reject states of a reply (RFC 5531, section 9).
const (
	Success      = 0
	ProgUnavail  = 1
	ProgMismatch = 2
	ProcUnavail  = 3
	GarbageArgs  = 4
	SystemErr    = 5

	RPCMismatch = 0
	AuthError   = 1
)

// An RPCError is a reply that carries no results: the call was refused or
// not accepted by the server.
type RPCError struct {
	Denied bool   // MSG_DENIED rather than MSG_ACCEPTED
	Stat   uint32 // accept_stat, or reject_stat if Denied
	Detail string
}

func (e *RPCError) Error() string {
	kind := "not accepted"
	if e.Denied {
		kind = "denied"
	}
	return fmt.Sprintf("rpc: call %s (stat %d)%s", kind, e.Stat, e.Detail)
}

// encodeCall returns a whole record (record mark included) carrying a call.
// The XID sits at bytes 4 to 8 of the record.
func encodeCall(xid, prog, vers, proc uint32, cred Auth, args []byte) []byte {
	var e Encoder
	e.Uint32(0) // record mark, filled in below
	e.Uint32(xid)
	e.Uint32(msgCall)
	e.Uint32(2) // RPC version
	e.Uint32(prog)
	e.Uint32(vers)
	e.Uint32(proc)
	e.auth(cred)
	e.auth(AuthNone)
	e.buf = append(e.buf, args...)
	binary.BigEndian.PutUint32(e.buf, lastFragment|uint32(len(e.buf)-4))
	return e.buf
}

// withXID returns a copy of the record msg carrying xid.
func withXID(msg []byte, xid uint32) []byte {
	p := append([]byte(nil), msg...)
	binary.BigEndian.PutUint32(p[4:], xid)
	return p
}

// readRecord reads one record (all its fragments) from r.
func readRecord(r io.Reader) ([]byte, error) {
	var rec []byte
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		h := binary.BigEndian.Uint32(hdr[:])
		n := int(h &^ lastFragment)
		if len(rec)+n > maxRecord {
			return nil, fmt.Errorf("rpc: record longer than %d bytes", maxRecord)
		}
		start := len(rec)
		rec = append(rec, make([]byte, n)...)
		if _, err := io.ReadFull(r, rec[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if h&lastFragment != 0 {
			return rec, nil
		}
	}
}

var errNotReply = errors.New("rpc: record is not a reply")

// replyXID returns the XID of a reply record (without record mark).
func replyXID(rec []byte) (uint32, error) {
	if len(rec) < 8 || binary.BigEndian.Uint32(rec[4:]) != msgReply {
		return 0, errNotReply
	}
	return binary.BigEndian.Uint32(rec), nil
}

// decodeReply checks a reply record and returns a decoder positioned at
// the procedure's results.
func decodeReply(rec []byte) (*Decoder, error) {
	d := NewDecoder(rec)
	d.Uint32() // xid
	if d.Uint32() != msgReply {
		return nil, errNotReply
	}
	switch d.Uint32() {
	case replyAccepted:
		d.Uint32()    // verifier flavor
		d.Opaque(400) // verifier body
		stat := d.Uint32()
		if err := d.Err(); err != nil {
			return nil, err
		}
		switch stat {
		case Success:
			return d, nil
		case ProgMismatch:
			lo, hi := d.Uint32(), d.Uint32()
			return nil, &RPCError{Stat: stat, Detail: fmt.Sprintf(": program versions %d to %d supported", lo, hi)}
		default:
			return nil, &RPCError{Stat: stat}
		}
	case replyDenied:
		stat := d.Uint32()
		detail := ""
		switch stat {
		case RPCMismatch:
			lo, hi := d.Uint32(), d.Uint32()
			detail = fmt.Sprintf(": RPC versions %d to %d supported", lo, hi)
		case AuthError:
			detail = fmt.Sprintf(": auth_stat %d", d.Uint32())
		}
		if err := d.Err(); err != nil {
			return nil, err
		}
		return nil, &RPCError{Denied: true, Stat: stat, Detail: detail}
	default:
		return nil, fmt.Errorf("rpc: reply_stat is neither accepted nor denied")
	}
}
