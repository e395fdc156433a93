package vclock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

var epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// check fails the test at once if err is not nil.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitCtx returns a context that ends the test's waits if something hangs.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sleepAsync runs clk.Sleep(ctx, d) on a new goroutine and returns a channel
// that receives its result.
func sleepAsync(ctx context.Context, clk *Clock, d time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() { done <- clk.Sleep(ctx, d) }()
	return done
}

func TestClockManual(t *testing.T) {
	ctx := waitCtx(t)
	clk := New(epoch)
	done := sleepAsync(context.Background(), clk, 10*time.Second)
	check(t, clk.BlockUntilSleepers(ctx, 1))

	clk.Advance(9 * time.Second)
	// Advance wakes sleepers before it returns, so one still counted has
	// not been woken.
	if n := clk.Sleepers(); n != 1 {
		t.Fatalf("after advancing 9s of a 10s sleep, Sleepers() = %d, want 1", n)
	}
	select {
	case err := <-done:
		t.Fatalf("10s sleep returned %v after 9s", err)
	default:
	}

	clk.Advance(time.Second)
	if n := clk.Sleepers(); n != 0 {
		t.Errorf("after reaching the deadline, Sleepers() = %d, want 0", n)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Sleep did not return after the clock reached its deadline")
	}
	if got, want := clk.Now(), epoch.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

func TestClockSet(t *testing.T) {
	ctx := waitCtx(t)
	clk := New(epoch)
	done := sleepAsync(context.Background(), clk, time.Minute)
	check(t, clk.BlockUntilSleepers(ctx, 1))
	clk.Set(epoch.Add(-time.Hour))
	if n := clk.Sleepers(); n != 1 {
		t.Fatalf("after setting the clock back, Sleepers() = %d, want 1", n)
	}
	clk.Set(epoch.Add(2 * time.Minute))
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Sleep did not return after Set passed its deadline")
	}
	if got, want := clk.Now(), epoch.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

func TestClockCancel(t *testing.T) {
	ctx := waitCtx(t)
	clk := New(epoch)
	sleepCtx, cancel := context.WithCancel(context.Background())
	done := sleepAsync(sleepCtx, clk, time.Hour)
	check(t, clk.BlockUntilSleepers(ctx, 1))
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep with a cancelled context = %v, want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("Sleep did not return after its context was cancelled")
	}
	if n := clk.Sleepers(); n != 0 {
		t.Errorf("after the sleeper was cancelled, Sleepers() = %d, want 0", n)
	}
	if !clk.Now().Equal(epoch) {
		t.Errorf("cancelling a sleep moved the clock to %v", clk.Now())
	}
}

func TestClockSleepEdgeCases(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		auto bool
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"zero duration", false, context.Background(), 0, nil},
		{"negative duration", false, context.Background(), -time.Second, nil},
		{"zero duration, done context", false, cancelled, 0, context.Canceled},
		{"done context", false, cancelled, time.Second, context.Canceled},
		{"done context, auto-advance", true, cancelled, time.Second, context.Canceled},
	}
	for _, tt := range tests {
		clk := New(epoch).AutoAdvance(tt.auto)
		if err := clk.Sleep(tt.ctx, tt.d); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("%s: Sleep = %v, want %v", tt.name, err, tt.want)
		}
		if !clk.Now().Equal(epoch) {
			t.Errorf("%s: Sleep moved the clock to %v, want it left at %v", tt.name, clk.Now(), epoch)
		}
	}
}

func TestClockAutoAdvance(t *testing.T) {
	ctx := waitCtx(t)
	clk := New(epoch)
	// A manual sleeper started before the switch is woken when auto-advancing
	// sleeps pass its deadline.
	done := sleepAsync(context.Background(), clk, 30*time.Second)
	check(t, clk.BlockUntilSleepers(ctx, 1))
	if clk.AutoAdvance(true) != clk {
		t.Fatal("AutoAdvance did not return its receiver")
	}

	for range 2 {
		if err := clk.Sleep(context.Background(), 15*time.Second); err != nil {
			t.Fatalf("auto-advance Sleep = %v, want nil", err)
		}
	}
	if got, want := clk.Now(), epoch.Add(30*time.Second); !got.Equal(want) {
		t.Errorf("after two 15s auto-advance sleeps, Now() = %v, want %v", got, want)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("earlier sleeper's Sleep = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("earlier sleeper was not woken by auto-advance sleeps past its deadline")
	}

	clk.AutoAdvance(false)
	done = sleepAsync(context.Background(), clk, time.Second)
	check(t, clk.BlockUntilSleepers(ctx, 1))
	clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Errorf("Sleep back in manual mode = %v, want nil", err)
	}
}

func TestBlockUntilSleepers(t *testing.T) {
	ctx := waitCtx(t)
	clk := New(epoch)
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- clk.Sleep(context.Background(), time.Duration(i+1)*time.Second)
		}()
	}
	check(t, clk.BlockUntilSleepers(ctx, n))
	if got := clk.Sleepers(); got != n {
		t.Errorf("after BlockUntilSleepers(%d), Sleepers() = %d", n, got)
	}
	clk.Advance(3 * time.Second)
	if got := clk.Sleepers(); got != n-3 {
		t.Errorf("after advancing past 3 of %d deadlines, Sleepers() = %d, want %d", n, got, n-3)
	}
	clk.Advance(time.Minute)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := clk.BlockUntilSleepers(cancelled, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("BlockUntilSleepers with no sleepers and a cancelled context = %v, want context.Canceled", err)
	}
	if err := clk.BlockUntilSleepers(cancelled, 0); err != nil {
		t.Errorf("BlockUntilSleepers(0) = %v, want nil", err)
	}
}

// TestClockConcurrent exercises the clock from many goroutines for the race
// detector: sleepers, cancellations, advances and readers at once.
func TestClockConcurrent(t *testing.T) {
	clk := New(epoch)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				_ = clk.Sleep(ctx, time.Duration(i+j+1)*time.Millisecond)
				_ = clk.Now()
			}
		}()
	}
	stop := make(chan struct{})
	advancer := make(chan struct{})
	go func() {
		defer close(advancer)
		for {
			select {
			case <-stop:
				return
			default:
				clk.Advance(time.Millisecond)
				_ = clk.Sleepers()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-advancer
	cancel()
	if n := clk.Sleepers(); n != 0 {
		t.Errorf("after every sleeper returned, Sleepers() = %d, want 0", n)
	}
}
