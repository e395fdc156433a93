package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// stream renders events as `go test -json` would.
func stream(t *testing.T, events ...event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func out(test, text string) event {
	return event{Action: "output", Package: "p", Test: test, Output: text}
}

func TestFailureRepeatedAtTheEnd(t *testing.T) {
	in := stream(t,
		out("TestA", "=== RUN   TestA\n"),
		out("TestA/Sub", "=== RUN   TestA/Sub\n"),
		out("TestA/Sub/Ok", "    a_test.go:1: fine\n"),
		out("TestA/Sub/Bad", "    a_test.go:2: two holders at once\n"),
		out("TestA/Sub/Bad", "        [rapid] draw x: 1\n"),
		out("TestA", "--- FAIL: TestA (1.00s)\n"),
		out("TestA/Sub", "    --- FAIL: TestA/Sub (1.00s)\n"),
		out("TestA/Sub/Ok", "        --- PASS: TestA/Sub/Ok (0.50s)\n"),
		event{Action: "pass", Package: "p", Test: "TestA/Sub/Ok"},
		out("TestA/Sub/Bad", "        --- FAIL: TestA/Sub/Bad (0.50s)\n"),
		event{Action: "fail", Package: "p", Test: "TestA/Sub/Bad"},
		event{Action: "fail", Package: "p", Test: "TestA/Sub"},
		event{Action: "fail", Package: "p", Test: "TestA"},
		out("", "FAIL\n"),
		event{Action: "fail", Package: "p"},
	)
	var got strings.Builder
	failed, err := run(strings.NewReader(in), &got)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("a failed test was reported as a pass")
	}
	s := got.String()
	for _, hidden := range []string{"=== RUN", "[rapid] draw", "--- PASS: TestA/Sub/Ok"} {
		if strings.Contains(s, hidden) {
			t.Errorf("output has %q:\n%s", hidden, s)
		}
	}
	summary, _, ok := strings.Cut(s[strings.Index(s, "== testlog"):], "testlog: failed:")
	if !ok {
		t.Fatalf("no summary:\n%s", s)
	}
	if !strings.Contains(summary, "--- FAILED: TestA/Sub/Bad (p)\n    a_test.go:2: two holders at once\n") {
		t.Errorf("the summary does not repeat the failed test's output:\n%s", s)
	}
	if strings.Contains(summary, "fine") || strings.Contains(summary, "FAILED: TestA/Sub ") {
		t.Errorf("the summary names more than the failed leaf:\n%s", s)
	}
	if !strings.HasSuffix(s, "testlog: failed: TestA/Sub/Bad\n") {
		t.Errorf("the last line does not name the failed test:\n%s", s)
	}
}

func TestPassIsQuiet(t *testing.T) {
	in := stream(t,
		out("TestA", "--- PASS: TestA (0.01s)\n"),
		event{Action: "pass", Package: "p", Test: "TestA"},
		out("", "ok  \tp\t0.01s\n"),
		event{Action: "pass", Package: "p"},
	)
	var got strings.Builder
	failed, err := run(strings.NewReader(in), &got)
	if err != nil || failed {
		t.Fatalf("failed %v, err %v", failed, err)
	}
	if got.String() != "--- PASS: TestA (0.01s)\nok  \tp\t0.01s\n" {
		t.Errorf("got %q", got.String())
	}
}

func TestBuildFailureFails(t *testing.T) {
	in := "# p\n./a.go:1: syntax error\n" + stream(t, event{Action: "fail", Package: "p"})
	var got strings.Builder
	failed, err := run(strings.NewReader(in), &got)
	if err != nil || !failed {
		t.Fatalf("failed %v, err %v", failed, err)
	}
	if !strings.Contains(got.String(), "syntax error") || !strings.HasSuffix(got.String(), "testlog: failed without a failing test: p\n") {
		t.Errorf("got %q", got.String())
	}
}
