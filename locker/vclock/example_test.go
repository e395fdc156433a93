package vclock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nfslock/nfslock/locker/vclock"
)

// A goroutine sleeps in virtual time until the test, sure that it is
// asleep, moves the clock past its deadline.
func Example() {
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	clk := vclock.New(start)
	done := make(chan error)
	go func() { done <- clk.Sleep(context.Background(), time.Minute) }()

	if err := clk.BlockUntilSleepers(context.Background(), 1); err != nil {
		fmt.Println(err)
		return
	}
	clk.Advance(time.Minute)
	fmt.Println("sleep:", <-done, "after", clk.Now().Sub(start))
	// Output: sleep: <nil> after 1m0s
}

// In auto-advance mode a Sleep returns at once, having moved the clock.
func ExampleClock_AutoAdvance() {
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	clk := vclock.New(start).AutoAdvance(true)
	if err := clk.Sleep(context.Background(), 15*time.Second); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(clk.Now().Sub(start))
	// Output: 15s
}
