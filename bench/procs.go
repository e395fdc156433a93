//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// env is what every workload needs to start workers.
type env struct {
	exe     string // this program
	python  string // the Python with flufl.lock, or "" if there is none
	script  string // flufl_worker.py, written out
	cfloor  string // cfloor.c, compiled, or "" if gcc is missing
	strace  string // strace, or "" if there is none
	scratch string // a local directory for the bench's own files
	timeout time.Duration
}

// A proc is a running worker.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	cancel context.CancelFunc
}

// start starts a worker of contender for s, with extra as descriptors 3,
// 4, ..., under the command wrap (strace) if it is not empty, and waits
// until it says it is ready.
func (e *env) start(contender string, s spec, extra []*os.File, wrap ...string) (*proc, error) {
	s.Contender = contender
	js, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var argv []string
	switch contender {
	case cFlufl:
		argv = []string{e.python, e.script, string(js)}
	case cCFloor:
		argv = []string{e.cfloor, string(js)}
	default:
		argv = []string{e.exe, "worker", string(js)}
	}
	argv = append(wrap, argv...)
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	p := &proc{name: contender + " " + s.Mode, cmd: exec.CommandContext(ctx, argv[0], argv[1:]...), cancel: cancel}
	p.cmd.ExtraFiles = extra
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		cancel()
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	p.stdout = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	line, err := p.stdout.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		p.stdin.Close()
		p.cmd.Wait()
		cancel()
		return nil, fmt.Errorf("%s worker said %q (%v) instead of ready; stderr: %s", p.name, line, err, p.stderr.String())
	}
	return p, nil
}

// run starts the workers together, a little after now, and returns their
// results in order.
func run(ps []*proc) ([]result, error) {
	at := strconv.FormatInt(time.Now().Add(20*time.Millisecond).UnixNano(), 10) + "\n"
	for _, p := range ps {
		io.WriteString(p.stdin, at)
	}
	rs := make([]result, len(ps))
	var first error
	for i, p := range ps {
		r, err := p.finish()
		rs[i] = r
		if err != nil && first == nil {
			first = err
		}
	}
	return rs, first
}

// finish reads the worker's result and waits for it to exit.
func (p *proc) finish() (result, error) {
	defer p.cancel()
	var r result
	out, rerr := io.ReadAll(p.stdout)
	p.stdin.Close()
	werr := p.cmd.Wait()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &r); jerr != nil {
		return r, fmt.Errorf("%s worker: no result (%v, %v, %v); stderr: %s", p.name, rerr, werr, jerr, p.stderr.String())
	}
	if r.Err != "" {
		return r, fmt.Errorf("%s worker: %s; stderr: %s", p.name, r.Err, p.stderr.String())
	}
	if werr != nil {
		return r, fmt.Errorf("%s worker: %v; stderr: %s", p.name, werr, p.stderr.String())
	}
	if ps := p.cmd.ProcessState; ps != nil {
		r.CPU = ps.UserTime() + ps.SystemTime()
	}
	return r, nil
}

// kill stops workers that were started but will not be run.
func kill(ps []*proc) {
	for _, p := range ps {
		p.stdin.Close()
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cancel()
	}
}

// startMany starts one worker per spec, all of contender, or none.
func (e *env) startMany(contender string, specs []spec, extra [][]*os.File) ([]*proc, error) {
	var ps []*proc
	for i, s := range specs {
		var x []*os.File
		if extra != nil {
			x = extra[i]
		}
		p, err := e.start(contender, s, x)
		if err != nil {
			kill(ps)
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}
