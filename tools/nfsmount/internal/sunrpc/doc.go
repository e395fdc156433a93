//go:build linux

// Package sunrpc is a client of ONC RPC version 2 (RFC 5531) over TCP, with
// the XDR encoding (RFC 4506) its messages use, AUTH_NONE and AUTH_SYS
// credentials, and the portmapper (RFC 1833, version 2).
//
// A Client multiplexes concurrent calls over one TCP connection, as the
// Linux NFS client does. When the connection breaks, it reconnects from the
// same local port (so that the server's duplicate request cache can
// recognise the client) and sends every call still waiting for a reply
// again, with its XID unchanged.
//
// A Client can also lose replies on purpose (see Loss): the reply to a
// chosen call is thrown away unread by the caller, the connection is reset,
// and the call is sent again on a new connection, with its old XID or a new
// one. This is how a reply lost in the network looks to an NFS client, and
// what the server's duplicate request cache exists for.
package sunrpc
