//go:build linux

package sunrpc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// A fakeServer answers calls over TCP as its handle function says.
type fakeServer struct {
	t  *testing.T
	ln net.Listener

	mu    sync.Mutex
	calls []seenCall
	seen  map[uint32]int // times each XID came

	// handle returns the reply's results, or drop to close the connection
	// without a reply. It runs on the connection's goroutine.
	handle func(s *fakeServer, c seenCall) (results []byte, drop bool)
}

type seenCall struct {
	xid, proc  uint32
	remotePort int
	times      int // how many times this XID came, this one included
	args       []byte
}

func newFakeServer(t *testing.T, handle func(s *fakeServer, c seenCall) ([]byte, bool)) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, seen: map[uint32]int{}, handle: handle}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fakeServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.conn(c)
	}
}

func (s *fakeServer) conn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	var wmu sync.Mutex
	for {
		rec, err := readRecord(br)
		if err != nil {
			return
		}
		d := NewDecoder(rec)
		xid := d.Uint32()
		d.Uint32() // CALL
		d.Uint32() // RPC version
		d.Uint32() // program
		d.Uint32() // version
		proc := d.Uint32()
		d.Uint32()    // cred flavor
		d.Opaque(400) // cred body
		d.Uint32()    // verifier flavor
		d.Opaque(400) // verifier body
		s.mu.Lock()
		s.seen[xid]++
		sc := seenCall{xid: xid, proc: proc, remotePort: c.RemoteAddr().(*net.TCPAddr).Port, times: s.seen[xid], args: d.Rest()}
		s.calls = append(s.calls, sc)
		s.mu.Unlock()
		go func() {
			results, drop := s.handle(s, sc)
			if drop {
				c.Close()
				return
			}
			var e Encoder
			e.Uint32(0)
			e.Uint32(xid)
			e.Uint32(msgReply)
			e.Uint32(replyAccepted)
			e.auth(AuthNone)
			e.Uint32(Success)
			e.buf = append(e.buf, results...)
			binary.BigEndian.PutUint32(e.buf, lastFragment|uint32(len(e.buf)-4))
			wmu.Lock()
			c.Write(e.buf)
			wmu.Unlock()
		}()
	}
}

func (s *fakeServer) seenCalls() []seenCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenCall(nil), s.calls...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// timesStatus names a reply by the first number of its results.
func timesStatus(proc uint32, d *Decoder) string { return fmt.Sprint(d.Uint32()) }

func dialFake(t *testing.T, s *fakeServer, loss *Loss) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{Addr: s.ln.Addr().String(), Prog: 100003, Vers: 3, Loss: loss, Status: timesStatus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientMultiplexes(t *testing.T) {
	// The first call's reply waits until the second call was answered:
	// replies come out of order over one connection.
	secondDone := make(chan struct{})
	s := newFakeServer(t, func(s *fakeServer, c seenCall) ([]byte, bool) {
		if c.proc == 1 {
			<-secondDone
		} else {
			defer close(secondDone)
		}
		return u32(c.proc * 10), false
	})
	c := dialFake(t, s, nil)
	var wg sync.WaitGroup
	got := make([]uint32, 3)
	errs := make([]error, 3)
	for _, proc := range []uint32{1, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.Call(context.Background(), proc, AuthNone, nil)
			errs[proc] = err
			if err == nil {
				got[proc] = d.Uint32()
			}
		}()
	}
	wg.Wait()
	for _, proc := range []uint32{1, 2} {
		if errs[proc] != nil || got[proc] != proc*10 {
			t.Errorf("call %d: result %d, error %v; want %d", proc, got[proc], errs[proc], proc*10)
		}
	}
	if st := c.Stats(); st.Reconnects != 0 || st.Calls[1] != 1 || st.Calls[2] != 1 {
		t.Errorf("stats %+v; want one call of each procedure and no reconnection", st)
	}
}

func TestClientLosesReplies(t *testing.T) {
	for _, policy := range []XIDPolicy{SameXID, NewXID} {
		t.Run(policy.String(), func(t *testing.T) {
			// The server answers how many times it saw the XID: a resend
			// with the same XID is answered 2, with a new one 1.
			s := newFakeServer(t, func(s *fakeServer, c seenCall) ([]byte, bool) { return u32(uint32(c.times)), false })
			c := dialFake(t, s, NewLoss(map[uint32]bool{15: true}, 1, policy, 1))
			port := c.LocalAddr().(*net.TCPAddr).Port
			d, err := c.Call(context.Background(), 15, AuthNone, nil)
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			want := map[XIDPolicy]uint32{SameXID: 2, NewXID: 1}[policy]
			if v := d.Uint32(); v != want {
				t.Errorf("the reply the caller got says the XID came %d times, want %d", v, want)
			}
			calls := s.seenCalls()
			if len(calls) != 2 {
				t.Fatalf("the server saw %d calls, want 2 (the call and its resend): %+v", len(calls), calls)
			}
			if same := calls[0].xid == calls[1].xid; same != (policy == SameXID) {
				t.Errorf("resend XID %#x after %#x; want the same XID: %v", calls[1].xid, calls[0].xid, policy == SameXID)
			}
			for i, sc := range calls {
				if sc.remotePort != port {
					t.Errorf("call %d came from port %d, want the client's first port %d (so the server can recognise it)", i, sc.remotePort, port)
				}
			}
			st := c.Stats()
			key := LostReply{Proc: 15, NewXID: policy == NewXID, First: "1", Retry: fmt.Sprint(want)}
			if st.Lost[key] != 1 || st.Reconnects != 1 || st.Resent != 1 {
				t.Errorf("stats %+v; want one lost reply %+v, one reconnection, one call resent", st, key)
			}
			// Other procedures' replies are not lost.
			if _, err := c.Call(context.Background(), 1, AuthNone, nil); err != nil || len(s.seenCalls()) != 3 {
				t.Errorf("a call of another procedure: %v, server saw %d calls; want no error and 3", err, len(s.seenCalls()))
			}
		})
	}
}

func TestClientLosesAsAnotherProcedure(t *testing.T) {
	// Replies of 15 are lost; a call of 14 made as if it were 15 (a
	// silly rename, which stands for a remove) loses its reply too, and a
	// call of 15 made as if it were 14 does not.
	s := newFakeServer(t, func(s *fakeServer, c seenCall) ([]byte, bool) { return u32(uint32(c.times)), false })
	c := dialFake(t, s, NewLoss(map[uint32]bool{15: true}, 1, SameXID, 1))
	if _, err := c.Call(LoseAs(context.Background(), 15), 14, AuthNone, nil); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if n := len(s.seenCalls()); n != 2 {
		t.Errorf("a call of 14 lost as 15's are: the server saw %d calls, want 2 (the call and its resend)", n)
	}
	if _, err := c.Call(LoseAs(context.Background(), 14), 15, AuthNone, nil); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if n := len(s.seenCalls()); n != 3 {
		t.Errorf("a call of 15 lost as 14's are (never): the server saw %d calls in all, want 3", n)
	}
	st := c.Stats()
	if key := (LostReply{Proc: 14, First: "1", Retry: "2"}); st.Lost[key] != 1 || len(st.Lost) != 1 {
		t.Errorf("lost replies %+v; want one, counted under its own procedure: %+v", st.Lost, key)
	}
}

func TestClientResendsAfterBrokenConnection(t *testing.T) {
	// The server drops the connection on the first sight of each XID.
	s := newFakeServer(t, func(s *fakeServer, c seenCall) ([]byte, bool) {
		return u32(uint32(c.times)), c.times == 1
	})
	c := dialFake(t, s, nil)
	d, err := c.Call(context.Background(), 3, AuthNone, nil)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if v := d.Uint32(); v != 2 {
		t.Errorf("reply says the XID came %d times, want 2 (sent again, same XID)", v)
	}
	if st := c.Stats(); st.Reconnects != 1 || st.Resent != 1 || len(st.Lost) != 0 {
		t.Errorf("stats %+v; want one reconnection, one call resent, no lost reply counted", st)
	}
}

func TestClientClose(t *testing.T) {
	hold := make(chan struct{})
	s := newFakeServer(t, func(s *fakeServer, c seenCall) ([]byte, bool) {
		<-hold
		return nil, false
	})
	defer close(hold)
	c := dialFake(t, s, nil)
	errc := make(chan error)
	go func() {
		_, err := c.Call(context.Background(), 1, AuthNone, nil)
		errc <- err
	}()
	for len(s.seenCalls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("a call waiting when the client closed: %v, want ErrClosed", err)
	}
	if _, err := c.Call(context.Background(), 1, AuthNone, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("a call after Close: %v, want ErrClosed", err)
	}
}
