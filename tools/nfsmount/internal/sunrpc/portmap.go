//go:build linux

package sunrpc

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

// The portmapper's program, version and GETPORT procedure (RFC 1833).
const (
	PortmapProg    = 100000
	PortmapVers    = 2
	portmapGetPort = 3
	ipprotoTCP     = 6
)

// GetPort asks the portmapper on host (port 111) for the TCP port of
// program prog, version vers.
func GetPort(ctx context.Context, host string, prog, vers uint32) (int, error) {
	c, err := Dial(ctx, Options{Addr: net.JoinHostPort(host, "111"), Prog: PortmapProg, Vers: PortmapVers})
	if err != nil {
		return 0, fmt.Errorf("portmapper on %s: %w", host, err)
	}
	defer c.Close()
	var e Encoder
	e.Uint32(prog)
	e.Uint32(vers)
	e.Uint32(ipprotoTCP)
	e.Uint32(0)
	d, err := c.Call(ctx, portmapGetPort, AuthNone, e.Bytes())
	if err != nil {
		return 0, fmt.Errorf("portmapper on %s: %w", host, err)
	}
	port := d.Uint32()
	if err := d.Err(); err != nil {
		return 0, fmt.Errorf("portmapper on %s: %w", host, err)
	}
	if port == 0 || port > 65535 {
		return 0, fmt.Errorf("portmapper on %s: program %d version %d is not registered for TCP", host, prog, vers)
	}
	return int(port), nil
}

// HostPort joins host and port.
func HostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
