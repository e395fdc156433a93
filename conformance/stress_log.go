package conformance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// lockEvents is a slog.Handler that a worker's lock logs to: it counts the
// breaks the lock made and keeps the first few warnings and errors, for the
// worker's report. A break in a test where no lock should expire, or a
// warning, is how a lock's trouble on a filesystem shows.
type lockEvents struct {
	mu     sync.Mutex
	breaks int
	notes  []string
	more   int
}

const maxNotes = 3

func (h *lockEvents) Enabled(_ context.Context, lvl slog.Level) bool { return lvl >= slog.LevelInfo }

func (h *lockEvents) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Message == "broke expired lock" {
		h.breaks++
	}
	if r.Level < slog.LevelWarn || r.Message == "filesystem does not report link counts; ownership is decided by the claim name alone" ||
		strings.HasPrefix(r.Message, "the filesystem keeps file times in whole seconds") {
		return nil // expected on some filesystems; the probe reports them
	}
	if len(h.notes) >= maxNotes {
		h.more++
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.notes = append(h.notes, b.String())
	return nil
}

func (h *lockEvents) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *lockEvents) WithGroup(string) slog.Handler      { return h }

// report returns the number of breaks and the warnings, for a done message.
func (h *lockEvents) report() (breaks int, notes string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	notes = strings.Join(h.notes, "; ")
	if h.more > 0 {
		notes += fmt.Sprintf("; and %d more", h.more)
	}
	return h.breaks, notes
}
