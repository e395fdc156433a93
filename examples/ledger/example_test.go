package ledger_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/examples/ledger"
	"github.com/spf13/afero"
)

// In production the ledger lives on a shared directory, reached through the
// operating system, and its lock uses the platform's backend.
func Example() {
	dir, err := os.MkdirTemp("", "ledger-example-") // a shared directory, such as /shared/ledgers
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ledger.txt")

	lock, err := nfslock.New(path + ".lock")
	if err != nil {
		log.Fatal(err)
	}
	l := &ledger.Ledger{Files: afero.NewOsFs(), Path: path, Lock: lock}
	for _, e := range []string{"first", "second"} {
		if err := l.Append(context.Background(), e); err != nil {
			log.Fatal(err)
		}
	}
	entries, err := l.Entries()
	fmt.Println(entries, err)
	// Output: [first second] <nil>
}
