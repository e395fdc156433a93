// Command hold takes a lock, holds it for a while, and releases it. Run two
// at once on the same path to watch one wait for the other:
//
//	go run ./examples/hold -path /tmp/demo.lock -hold 3s &
//	go run ./examples/hold -path /tmp/demo.lock -hold 3s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

func main() {
	path := flag.String("path", "", "lock file to take (required)")
	hold := flag.Duration("hold", 3*time.Second, "how long to hold the lock")
	timeout := flag.Duration("timeout", 0, "give up waiting after this long (0: wait for ever)")
	flag.Parse()
	log.SetFlags(0)
	if *path == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	lock, err := nfslock.New(*path, locker.WithTimeout(*timeout))
	if err != nil {
		log.Fatal(err)
	}
	stamp := func(format string, args ...any) {
		fmt.Printf("%s pid %d: %s\n", time.Now().Format("15:04:05.000"), os.Getpid(), fmt.Sprintf(format, args...))
	}
	stamp("waiting for %s", lock.LockFile())
	if err := lock.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	stamp("acquired; holding for %v", *hold)
	select {
	case <-time.After(*hold):
	case <-ctx.Done():
	}
	if err := lock.Unlock(); err != nil {
		log.Fatal(err)
	}
	stamp("released")
}
