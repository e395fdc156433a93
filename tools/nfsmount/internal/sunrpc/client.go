//go:build linux

package sunrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"syscall"
	"time"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("rpc: client closed")

// Options configure a Client.
type Options struct {
	Addr       string // the server's host:port
	Prog, Vers uint32

	// Timeout is how long a call may wait for its reply before the Client
	// resets the connection and sends every waiting call again (the Linux
	// client's timeo). Zero means forever.
	Timeout time.Duration

	// Loss, if not nil, chooses replies to lose on purpose.
	Loss *Loss

	// Status names the outcome a reply record reports, for Stats (for
	// NFS, its nfsstat3). Nil names every accepted reply "OK".
	Status func(proc uint32, results *Decoder) string

	// Logf, if not nil, receives a line for each reconnection and timeout.
	Logf func(format string, args ...any)
}

// A Client makes calls to one program and version of one server over one
// TCP connection at a time. It is safe for concurrent use; calls are
// multiplexed over the connection.
type Client struct {
	opts Options

	mu         sync.Mutex
	conn       *conn // nil while not connected
	dialing    bool
	closed     bool
	xid        uint32
	localPort  int
	pending    map[uint32]*call
	stats      Stats
	connected  chan struct{} // closed and replaced on each new connection
	everDialed bool
}

type conn struct {
	c   *net.TCPConn
	wmu sync.Mutex
}

func (cn *conn) write(p []byte) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_, err := cn.c.Write(p)
	return err
}

// abort closes the connection with a reset, throwing away whatever the
// server sent that was not read.
func (cn *conn) abort() {
	cn.c.SetLinger(0)
	cn.c.Close()
}

type call struct {
	proc uint32
	msg  []byte
	done chan []byte // the reply record

	lose  bool   // lose the next reply
	lost  bool   // a reply was lost
	newX  bool   // sent again with a new XID
	first string // status of the lost reply
}

// Dial connects to the server and returns a Client.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	c := &Client{
		opts:      opts,
		pending:   make(map[uint32]*call),
		xid:       uint32(time.Now().UnixNano()),
		connected: make(chan struct{}),
		stats:     Stats{Calls: map[uint32]uint64{}, Lost: map[LostReply]uint64{}},
	}
	cn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.setConn(cn)
	c.mu.Unlock()
	return c, nil
}

// dial connects from the local port of the last connection, if any, so that
// the server sees the same client address; if that port cannot be had, from
// any port.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	port := c.localPort
	c.mu.Unlock()
	d := net.Dialer{Timeout: 10 * time.Second}
	if port != 0 {
		d.LocalAddr = &net.TCPAddr{Port: port}
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	nc, err := d.DialContext(ctx, "tcp", c.opts.Addr)
	if err != nil && port != 0 {
		d.LocalAddr, d.Control = nil, nil
		nc, err = d.DialContext(ctx, "tcp", c.opts.Addr)
	}
	if err != nil {
		return nil, err
	}
	tc := nc.(*net.TCPConn)
	tc.SetNoDelay(true)
	return &conn{c: tc}, nil
}

// setConn makes cn the connection, starts its reader and returns the calls
// to send again on it. c.mu is held.
func (c *Client) setConn(cn *conn) []*call {
	c.conn = cn
	if a, ok := cn.c.LocalAddr().(*net.TCPAddr); ok {
		c.localPort = a.Port
	}
	if c.everDialed {
		c.stats.Reconnects++
	}
	c.everDialed = true
	close(c.connected)
	c.connected = make(chan struct{})
	go c.read(cn)
	xids := make([]uint32, 0, len(c.pending))
	for x := range c.pending {
		xids = append(xids, x)
	}
	sort.Slice(xids, func(i, j int) bool { return xids[i]-xids[0] < xids[j]-xids[0] })
	calls := make([]*call, len(xids))
	for i, x := range xids {
		calls[i] = c.pending[x]
	}
	return calls
}

// Call calls procedure proc with the given credential and encoded
// arguments and returns a decoder positioned at the results. It waits for
// the reply as long as it takes (a hard mount), across reconnections, unless
// ctx ends first.
func (c *Client) Call(ctx context.Context, proc uint32, cred Auth, args []byte) (*Decoder, error) {
	cl := &call{proc: proc, done: make(chan []byte, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.xid++
	xid := c.xid
	cl.msg = encodeCall(xid, c.opts.Prog, c.opts.Vers, proc, cred, args)
	cl.lose = c.opts.Loss.chooses(lossClass(ctx, proc))
	c.pending[xid] = cl
	c.stats.Calls[proc]++
	cn := c.conn
	if cn == nil {
		c.startRedial()
	}
	c.mu.Unlock()
	if cn != nil {
		if err := cn.write(cl.msg); err != nil {
			c.broken(cn, err)
		}
	}

	var timer <-chan time.Time
	if c.opts.Timeout > 0 {
		t := time.NewTicker(c.opts.Timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		select {
		case rec, ok := <-cl.done:
			if !ok {
				return nil, ErrClosed
			}
			d, err := decodeReply(rec)
			if cl.lost {
				c.countLost(cl, d, err)
			}
			return d, err
		case <-timer:
			c.mu.Lock()
			c.stats.Timeouts++
			cur := c.conn
			c.mu.Unlock()
			c.logf("rpc: %s not responding to call %d of program %d, still trying", c.opts.Addr, proc, c.opts.Prog)
			if cur != nil {
				c.broken(cur, errors.New("timeout"))
			}
		case <-ctx.Done():
			c.mu.Lock()
			for x, p := range c.pending {
				if p == cl {
					delete(c.pending, x)
				}
			}
			c.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

type loseAsKey struct{}

// LoseAs returns a context under which a call's reply is lost, or not,
// as a call of procedure proc's would be: for a call that stands for
// another, such as the RENAME a client makes instead of a REMOVE.
func LoseAs(ctx context.Context, proc uint32) context.Context {
	return context.WithValue(ctx, loseAsKey{}, proc)
}

// lossClass is the procedure whose replies' loss a call of proc under ctx
// shares (see LoseAs).
func lossClass(ctx context.Context, proc uint32) uint32 {
	if p, ok := ctx.Value(loseAsKey{}).(uint32); ok {
		return p
	}
	return proc
}

func (c *Client) countLost(cl *call, d *Decoder, err error) {
	retry := c.status(cl.proc, d, err)
	c.mu.Lock()
	c.stats.Lost[LostReply{Proc: cl.proc, NewXID: cl.newX, First: cl.first, Retry: retry}]++
	c.mu.Unlock()
}

func (c *Client) status(proc uint32, d *Decoder, err error) string {
	if err != nil {
		return err.Error()
	}
	if c.opts.Status == nil {
		return "OK"
	}
	cp := *d
	return c.opts.Status(proc, &cp)
}

// read reads replies from cn until it fails, and hands each to its call.
func (c *Client) read(cn *conn) {
	br := bufio.NewReaderSize(cn.c, 64<<10)
	for {
		rec, err := readRecord(br)
		if err != nil {
			c.broken(cn, err)
			return
		}
		xid, err := replyXID(rec)
		if err != nil {
			c.broken(cn, err)
			return
		}
		c.mu.Lock()
		cl := c.pending[xid]
		if cl == nil { // a late reply to a call given up or answered already
			c.mu.Unlock()
			continue
		}
		if cl.lose {
			// Lose this reply: forget it, reset the connection, and let
			// the new connection carry the call again.
			cl.lose, cl.lost = false, true
			d, derr := decodeReply(rec)
			cl.first = c.status(cl.proc, d, derr)
			if c.opts.Loss.newXID() {
				cl.newX = true
				delete(c.pending, xid)
				c.xid++
				cl.msg = withXID(cl.msg, c.xid)
				c.pending[c.xid] = cl
			}
			c.mu.Unlock()
			c.logf("rpc: lost the reply to call %d (xid %#x, %s); resending with %s XID", cl.proc, xid, cl.first, map[bool]string{false: "the same", true: "a new"}[cl.newX])
			cn.abort()
			c.broken(cn, errors.New("reply lost on purpose"))
			return
		}
		delete(c.pending, xid)
		c.mu.Unlock()
		cl.done <- rec
	}
}

// broken retires cn after err and, if calls are waiting, connects again.
func (c *Client) broken(cn *conn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != cn {
		return
	}
	cn.c.Close()
	c.conn = nil
	if c.closed {
		return
	}
	if len(c.pending) > 0 {
		c.startRedial()
	}
}

// startRedial starts connecting again unless that is under way. c.mu is held.
func (c *Client) startRedial() {
	if c.dialing || c.closed {
		return
	}
	c.dialing = true
	go c.redial()
}

func (c *Client) redial() {
	wait := 50 * time.Millisecond
	for {
		cn, err := c.dial(context.Background())
		c.mu.Lock()
		if c.closed {
			c.dialing = false
			c.mu.Unlock()
			if cn != nil {
				cn.c.Close()
			}
			return
		}
		if err != nil {
			c.mu.Unlock()
			c.logf("rpc: connecting to %s again: %v; retrying in %v", c.opts.Addr, err, wait)
			time.Sleep(wait)
			wait = min(2*wait, 5*time.Second)
			continue
		}
		c.dialing = false
		calls := c.setConn(cn)
		c.stats.Resent += uint64(len(calls))
		msgs := make([][]byte, len(calls))
		for i, cl := range calls {
			msgs[i] = cl.msg
		}
		c.mu.Unlock()
		for _, m := range msgs {
			if err := cn.write(m); err != nil {
				c.broken(cn, err)
				return
			}
		}
		return
	}
}

// Stats returns what the client has done so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats.clone()
}

// LocalAddr returns the local address of the current connection, or nil.
func (c *Client) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	return c.conn.c.LocalAddr()
}

// Close closes the connection; waiting calls return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.conn != nil {
		c.conn.c.Close()
		c.conn = nil
	}
	for x, cl := range c.pending {
		delete(c.pending, x)
		close(cl.done)
	}
	return nil
}

func (c *Client) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// String names the server and program.
func (c *Client) String() string {
	return fmt.Sprintf("%s program %d version %d", c.opts.Addr, c.opts.Prog, c.opts.Vers)
}
