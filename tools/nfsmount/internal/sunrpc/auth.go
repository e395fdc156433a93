//go:build linux

package sunrpc

// Authentication flavors (RFC 5531, section 8.2).
const (
	AuthNoneFlavor = 0
	AuthSysFlavor  = 1
)

// An Auth is an opaque_auth: a credential or verifier.
type Auth struct {
	Flavor uint32
	Body   []byte
}

// AuthNone is the empty credential.
var AuthNone = Auth{Flavor: AuthNoneFlavor}

// AuthSys returns an AUTH_SYS credential (RFC 5531, appendix A) for the
// given machine name, user, group and supplementary groups (at most 16 are
// sent, as the protocol allows).
func AuthSys(stamp uint32, machine string, uid, gid uint32, gids []uint32) Auth {
	if len(machine) > 255 {
		machine = machine[:255]
	}
	if len(gids) > 16 {
		gids = gids[:16]
	}
	var e Encoder
	e.Uint32(stamp)
	e.String(machine)
	e.Uint32(uid)
	e.Uint32(gid)
	e.Uint32(uint32(len(gids)))
	for _, g := range gids {
		e.Uint32(g)
	}
	return Auth{Flavor: AuthSysFlavor, Body: e.Bytes()}
}

func (e *Encoder) auth(a Auth) {
	e.Uint32(a.Flavor)
	e.Opaque(a.Body)
}
