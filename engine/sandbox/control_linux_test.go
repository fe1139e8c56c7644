package sandbox

// Controls: correct programs must succeed under DefaultLimits, and the
// sandbox's promises about the box itself must hold.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoPeer listens on addr in the box's network namespace and echoes one
// line to each connection.
func echoPeer(addr string) func(context.Context, *NetNS) error {
	return func(ctx context.Context, ns *NetNS) error {
		ln, err := ns.Listen("tcp", addr)
		if err != nil {
			return err
		}
		ns.Ready()
		for {
			c, err := ln.Accept()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil {
				_, err = c.Write([]byte(line))
			}
			c.Close()
			if err != nil {
				return err
			}
		}
	}
}

func TestControls(t *testing.T) {
	const addr = "127.0.0.1:7000" // in the box's own network namespace
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"control/epoll", []string{addr}, "echo: ping from epoll\n"},
		{"control/uring", []string{addr}, "nop: ok\nconnect: ok\necho: ping from io_uring\n"},
		{"control/mem64", nil, "touched 64 MiB with 50 goroutines, sum "},
	}
	for _, tc := range tests {
		t.Run(strings.TrimPrefix(tc.name, "control/"), func(t *testing.T) {
			spec := boxSpec(t, tc.name, DefaultLimits(), tc.args...)
			spec.Peers = echoPeer(addr)
			res := run(t, spec)
			wantVerdict(t, res, VerdictOK)
			if !strings.HasPrefix(string(res.Stdout), tc.want) {
				t.Errorf("stdout = %q, want %q", res.Stdout, tc.want)
			}
			if res.PeerErr != nil {
				t.Errorf("PeerErr = %v", res.PeerErr)
			}
		})
	}
}

func TestBoxCredentials(t *testing.T) {
	spec := boxSpec(t, "control/hello", tight(), "a", "b")
	spec.Env = []string{"A=1", "B=2"}
	spec.Dir = "/tmp"
	spec.Files = []File{{Inside: "/tmp/in.txt", Data: []byte("hi")}, {Inside: "/etc/config.json", Data: []byte("{}"), Mode: 0o600}}
	var trace strings.Builder
	spec.Trace = &trace
	res := run(t, spec)
	wantVerdict(t, res, VerdictOK)
	ids := BoxIDs()
	setgroups := "deny"
	if os.Geteuid() == 0 {
		setgroups = "allow"
	}
	zero := "0000000000000000"
	wantLines(t, lines(res.Stdout), map[string]string{
		"Uid": "0 0 0 0", "Gid": "0 0 0 0", "Groups": "",
		"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero,
		"NoNewPrivs": "1", "Seccomp": "2",
		"gid_map": fmt.Sprintf("0 %d 1", ids.GID), "setgroups": setgroups,
		"pid": "1", "hostname": "box", "wd": "/tmp", "args": "prog a b", "env": "A=1 B=2",
		"file": `"hi" <nil>`, "file mode": "-rw-------", "interface": "lo",
	})
	// The uid is the box's own, leased from the range.
	uidMap := strings.Fields(firstOf(lines(res.Stdout)["uid_map"]))
	if uid, err := strconv.Atoi(uidMap[min(1, len(uidMap)-1)]); len(uidMap) != 3 || uidMap[0] != "0" || uidMap[2] != "1" || err != nil || !ids.Contains(uid) {
		t.Errorf("uid_map = %q, want 0 mapped to one uid of %+v", uidMap, ids)
	}
	if string(res.Stderr) != "to stderr" || trace.String() != "to trace" {
		t.Errorf("Stderr = %q, Trace = %q; want the program's bytes", res.Stderr, trace.String())
	}
	if res.Landlock != landlockABI() {
		t.Errorf("Landlock = %d, want the kernel's ABI %d", res.Landlock, landlockABI())
	}
}

// Peers run in the box's network namespace, outside its pid namespace:
// the program reaches the peer (and not the host's listener on the same
// address), and cannot see or kill it.
func TestPeers(t *testing.T) {
	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	hostHit := make(chan struct{}, 1)
	go func() {
		if c, err := host.Accept(); err == nil {
			c.Close()
			hostHit <- struct{}{}
		}
	}()
	addr := host.Addr().String()

	var peerNetNS, remote, after string
	spec := boxSpec(t, "control/peerprobe", tight(), addr, strconv.Itoa(os.Getpid()))
	spec.Peers = func(ctx context.Context, ns *NetNS) error {
		ln, err := ns.Listen("tcp", addr) // the same address, in the box
		if err != nil {
			return err
		}
		if err := ns.Do(func() (err error) {
			peerNetNS, err = os.Readlink("/proc/thread-self/ns/net")
			return err
		}); err != nil {
			return err
		}
		ns.Ready()
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		remote = c.RemoteAddr().String()
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil {
			return err
		}
		fmt.Fprintf(c, "hello from pid %d\n", os.Getpid())
		after, err = r.ReadString('\n')
		return err
	}
	res := run(t, spec)
	wantVerdict(t, res, VerdictOK)
	if res.PeerErr != nil {
		t.Fatalf("PeerErr = %v", res.PeerErr)
	}
	got := lines(res.Stdout)
	wantLines(t, got, map[string]string{
		"netns": peerNetNS, "read": "ok", "reply": fmt.Sprintf("hello from pid %d", os.Getpid()),
		"kill server": "ESRCH", "kill -1": "ESRCH", "pids": "[1]",
	})
	if own := serverNetNS; own == peerNetNS {
		t.Errorf("the peer ran in the server's own network namespace %s", own)
	}
	if !strings.HasPrefix(remote, "127.0.0.1:") || after != "still here\n" {
		t.Errorf("peer saw %q from %s, want the box's second line over loopback", after, remote)
	}
	select {
	case <-hostHit:
		t.Errorf("the host's listener was reached from the box")
	default:
	}
}

// A peer that fails or panics is the peer's error, not the server's.
func TestPeerErrors(t *testing.T) {
	boom := errors.New("boom")
	for name, peer := range map[string]func(context.Context, *NetNS) error{
		"error": func(context.Context, *NetNS) error { return boom },
		"panic": func(context.Context, *NetNS) error { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			spec := boxSpec(t, "control/true", tight())
			spec.Peers = peer
			res := run(t, spec)
			wantVerdict(t, res, VerdictOK)
			if res.PeerErr == nil || !strings.Contains(res.PeerErr.Error(), "boom") {
				t.Errorf("PeerErr = %v, want boom", res.PeerErr)
			}
		})
	}
}

func TestRunRejectsBadSpecs(t *testing.T) {
	prog := program(t, "control/true")
	for name, spec := range map[string]Spec{
		"relative path":  {Path: "prog"},
		"relative dir":   {Path: "/box/prog", Dir: "tmp"},
		"bind over root": {Path: "/box/prog", Binds: []Bind{{Host: prog, Inside: "/"}}},
		"bind over proc": {Path: "/box/prog", Binds: []Bind{{Host: prog, Inside: "/proc/x"}}},
		"relative host":  {Path: "/box/prog", Binds: []Bind{{Host: "prog", Inside: "/box/prog"}}},
		"missing host":   {Path: "/box/prog", Binds: []Bind{{Host: "/nonexistent/prog", Inside: "/box/prog"}}},
		"file in dev":    {Path: "/box/prog", Files: []File{{Inside: "/dev/sda"}}},
		"no program":     {Path: "/box/prog"},
	} {
		t.Run(name, func(t *testing.T) {
			before := snapshot(t)
			res, err := Run(context.Background(), spec)
			if err == nil {
				t.Errorf("Run() = %+v, want an error", res)
			}
			before.verify(t)
		})
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	before := snapshot(t)
	res, err := Run(ctx, boxSpec(t, "hostile/sleeper", tight()))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run() = %v, %v; want the context's error", res, err)
	}
	before.verify(t)
}

func TestDoctor(t *testing.T) {
	checks := Doctor()
	required := []string{CheckUserNS, CheckMountNS, CheckPidNS, CheckNetNS, CheckTimeNS, CheckCgroups, CheckSeccomp,
		CheckIOUring, CheckIOUringOn, CheckGo}
	optional := []string{CheckLandlock, CheckSwap, CheckVsock}
	byName := map[string]Check{}
	for _, c := range checks {
		t.Logf("%-26s ok=%-5v required=%-5v %s %s", c.Name, c.OK, c.Required, c.Detail, c.Fix)
		if _, dup := byName[c.Name]; dup {
			t.Errorf("check %q reported twice", c.Name)
		}
		byName[c.Name] = c
		if c.Detail == "" {
			t.Errorf("check %q has no Detail", c.Name)
		}
		if !c.OK && c.Fix == "" {
			t.Errorf("check %q failed without a Fix", c.Name)
		}
	}
	for _, n := range required {
		c, ok := byName[n]
		switch {
		case !ok:
			t.Errorf("Doctor() lacks %q", n)
		case !c.Required:
			t.Errorf("%q is not Required", n)
		case !c.OK:
			t.Errorf("%q fails on this host: %s", n, c.Detail)
		}
	}
	for _, n := range optional {
		if c, ok := byName[n]; !ok || c.Required {
			t.Errorf("Doctor()[%q] = %+v, want an optional check", n, c)
		}
	}
	if !byName[CheckLandlock].OK {
		t.Errorf("landlock: %s", byName[CheckLandlock].Detail)
	}
	if err := Ready(); err != nil {
		t.Errorf("Ready() = %v", err)
	}
}
