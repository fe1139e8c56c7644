package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// boxProcAttr returns how box-init is cloned: into new user, mount, pid,
// network, IPC and UTS namespaces, as root of its user namespace mapped
// to the host ids uid and gid, in a session of its own, killed if the
// thread that started it dies. With cgroupNS, also into a new cgroup
// namespace, which is rooted where box-init is born: a box cloned into
// its cgroup (v2) gets it here, one moved there afterwards (v1) makes its
// own once it is in place (see boxConfig.CgroupNS).
func boxProcAttr(uid, gid int, cgroupNS bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}},
		Setsid:      true,
		Pdeathsig:   syscall.SIGKILL,
	}
	if cgroupNS {
		attr.Cloneflags |= syscall.CLONE_NEWCGROUP
	}
	if os.Geteuid() == 0 {
		// A root server's child keeps kuid 0, which the map leaves out:
		// it must switch to the mapped root (setresuid(0) inside is
		// the box's uid outside) and drop root's supplementary groups
		// (gid 0 among them), which would otherwise follow it onto host
		// files.
		attr.GidMappingsEnableSetgroups = true
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
	}
	return attr
}

// setupTimeout bounds the box's own setup, before the program execs.
const setupTimeout = 10 * time.Second

// cpuPoll is how often the run's CPU time is compared with its limit.
const cpuPoll = 25 * time.Millisecond

// Past its cap, stderr is still read (and counted, and its tail kept) for
// a grace (stderrGrace of the run's CPU time, at most stderrGraceWall),
// or until stderrSlack more bytes, before the run is killed: a Go crash
// that floods stderr with its goroutine dump then ends, and is told apart
// from a flood, and a program's own last words, after logs past the cap,
// are not lost.
const (
	stderrGrace     = time.Second
	stderrGraceWall = 10 * time.Second
	stderrSlack     = 16 << 20
)

var (
	hostOnce sync.Once
	hostCg   *cgroupRoot
	hostErr  error
	self     procID
	runSeq   atomic.Uint64
	// staleAtStart counts the stale runs host removed, until Cleanup
	// reports them.
	staleAtStart atomic.Int64
)

// host finds the cgroups once per process and removes the stale runs of
// crashed servers before the first run.
func host() (*cgroupRoot, error) {
	hostOnce.Do(func() {
		id, ok := procIDOf(os.Getpid())
		if !ok {
			hostErr = errors.New("sandbox: cannot read /proc/self/stat")
			return
		}
		self = id
		hostCg, hostErr = findCgroups()
		if hostErr != nil {
			hostErr = fmt.Errorf("sandbox: %w", hostErr)
			return
		}
		// Errors show again in the next Cleanup, which retries.
		n, _ := hostCg.cleanStale()
		staleAtStart.Store(int64(n))
	})
	return hostCg, hostErr
}

// Cleanup kills and removes what crashed servers left behind: the
// cgroups of their runs, with any process still in them, and returns how
// many runs it removed. The first [Run] does it too (Cleanup then reports
// those); a server calls Cleanup at start to log the count.
func Cleanup() (int, error) {
	r, err := host()
	if err != nil {
		return 0, err
	}
	n, err := r.cleanStale()
	return n + int(staleAtStart.Swap(0)), err
}

// Run runs spec's program in a fresh sandbox and waits for it to end.
// The verdict, not the error, says how the program did: the error is
// only for the sandbox's own failures, and Run never runs a program with
// a part of the sandbox missing. Run is safe for concurrent use.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	cg, err := host()
	if err != nil {
		return nil, err
	}
	return runIn(ctx, spec, cg)
}

// runIn runs spec with its cgroup under cg.
func runIn(ctx context.Context, spec Spec, cg *cgroupRoot) (*Result, error) {
	if auditArch == 0 {
		return nil, fmt.Errorf("sandbox: no seccomp filter for %s", runtime.GOARCH)
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &runner{spec: spec, lim: spec.Limits.withDefaults(), cgRoot: cg, log: log, stderrOver: make(chan struct{})}
	return r.run(ctx)
}

func (s *Spec) validate() error {
	bad := func(what string) error { return fmt.Errorf("sandbox: invalid spec: %s", what) }
	if !path.IsAbs(s.Path) {
		return bad("Path must be absolute inside the box")
	}
	if s.Dir != "" && !path.IsAbs(s.Dir) {
		return bad("Dir must be absolute inside the box")
	}
	for _, b := range s.Binds {
		if !path.IsAbs(b.Host) || !path.IsAbs(b.Inside) || path.Clean(b.Inside) == "/" {
			return bad("bind " + b.Inside + ": Host and Inside must be absolute, Inside not /")
		}
		if reserved(b.Inside) {
			return bad("bind " + b.Inside + ": /proc, /dev and " + stageDir + " belong to the sandbox")
		}
	}
	for _, f := range s.Files {
		if !path.IsAbs(f.Inside) || path.Clean(f.Inside) == "/" || reserved(f.Inside) {
			return bad("file " + f.Inside + ": must be absolute, not /, not under /proc, /dev or " + stageDir)
		}
	}
	return nil
}

func reserved(p string) bool {
	p = path.Clean(p)
	for _, r := range []string{"/proc", "/dev", stageDir} {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// runner is one run in progress.
type runner struct {
	spec   Spec
	lim    Limits
	cgRoot *cgroupRoot
	log    *slog.Logger

	cg   *cgroup
	cmd  *exec.Cmd
	cpu0 time.Duration // the cgroup's CPU time when the program was let go

	mu         sync.Mutex
	killReason Verdict // why the sandbox killed the program, if it did
	killDetail string

	stderr       stderrLog     // owned by the stderr reader until it returns
	stderrOver   chan struct{} // closed when stderr passes Limits.Output
	crashed      atomic.Bool   // a Go crash has been seen in stderr
	stderrClosed sync.Once
}

// kill ends the run for the given reason; the first reason wins.
func (r *runner) kill(v Verdict, detail string) {
	r.mu.Lock()
	first := r.killReason == ""
	if first {
		r.killReason, r.killDetail = v, detail
	}
	r.mu.Unlock()
	if !first {
		return
	}
	// SIGKILL to the box's PID 1 takes its whole pid namespace down; the
	// cgroup kill is the second net.
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
	}
	if err := r.cg.kill(); err != nil {
		r.log.Warn("sandbox kill", "err", err)
	}
}

// run runs the box in steps, each below: lease its ids and make its
// cgroup (here), open its pipes, start box-init, read what it writes,
// see it through its setup, watch it run against the limits, and gather
// the result. Every step's cleanup is deferred here, in the reverse order
// of the steps, so that the box is reaped before its pipes close, and its
// cgroup is removed, and its uid given back, only after both.
func (r *runner) run(ctx context.Context) (res *Result, err error) {
	ids, err := leaseIDs(ctx)
	if err != nil {
		return nil, err
	}
	// The uid goes back to the pool only when nothing of the box is
	// left: its cgroup is empty and gone.
	keepUID := false
	defer func() {
		if keepUID {
			r.log.Warn("sandbox keeps a box uid leased: the run's cgroup was not removed", "uid", ids.uid)
			ids.keep()
			return
		}
		ids.release()
	}()
	cg, err := r.cgRoot.create(runName(self, runSeq.Add(1)), r.lim)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	r.cg = cg
	defer func() {
		if e := cg.remove(); e != nil {
			r.log.Warn("sandbox cgroup removal", "err", e)
			if err == nil {
				res, err = nil, fmt.Errorf("sandbox: %w", e)
			}
			keepUID = true
		}
	}()

	p, err := openPipes()
	defer p.close()
	if err != nil {
		return nil, err
	}
	b, err := r.startBox(ids, p)
	if err != nil {
		return nil, err
	}
	defer r.reap(b)
	out := r.readOutputs(p)
	peers, landlock, t0, err := r.setUp(ctx, p, b, out)
	defer peers.stop()
	if err != nil {
		return nil, err
	}
	ctxErr := r.watch(ctx, b.exited, t0)
	elapsed := time.Since(t0)

	// The box's PID 1 is gone, and its pid namespace with it; make sure
	// of it through the cgroup before reading the pipes to their end.
	if err := cg.kill(); err != nil {
		return nil, err
	}
	out.wait(p)
	res = r.result(out, elapsed, landlock)
	res.PeerErr = peers.finish()
	if ctxErr != nil {
		return nil, ctxErr
	}
	return res, nil
}

// boxPipes are the pipes between the server and box-init: the program's
// standard output and error, its trace, the config and go-ahead the
// server writes (ctl), and the setup steps box-init reports (status).
type boxPipes struct {
	outR, outW       *os.File
	errR, errW       *os.File
	traceR, traceW   *os.File
	ctlR, ctlW       *os.File
	statusR, statusW *os.File
	boxEnds          []*os.File // closed once the box has started
	ourEnds          []*os.File // closed when the run ends
}

// openPipes opens the box's pipes. It returns what it opened even on an
// error, for close.
func openPipes() (*boxPipes, error) {
	p := &boxPipes{}
	for _, e := range []struct {
		ours, box **os.File
		boxReads  bool
	}{
		{&p.outR, &p.outW, false},
		{&p.errR, &p.errW, false},
		{&p.traceR, &p.traceW, false},
		{&p.ctlW, &p.ctlR, true},
		{&p.statusR, &p.statusW, false},
	} {
		rd, wr, err := os.Pipe()
		if err != nil {
			return p, fmt.Errorf("sandbox: %w", err)
		}
		if e.boxReads {
			*e.ours, *e.box = wr, rd
		} else {
			*e.ours, *e.box = rd, wr
		}
		p.ourEnds = append(p.ourEnds, *e.ours)
		p.boxEnds = append(p.boxEnds, *e.box)
	}
	return p, nil
}

// closeBoxEnds closes the box's ends, which box-init holds once started:
// our reads then end when the box's writers are gone.
func (p *boxPipes) closeBoxEnds() {
	for _, f := range p.boxEnds {
		f.Close()
	}
	p.boxEnds = nil
}

func (p *boxPipes) close() {
	p.closeBoxEnds()
	for _, f := range p.ourEnds {
		f.Close()
	}
}

// startedBox is box-init, started and in its cgroup.
type startedBox struct {
	cfg    *boxConfig
	exited chan struct{} // closed once box-init is reaped
	nsfd   int           // its network namespace, for the peers
	cgfd   int           // its cgroup (v2), or -1
}

// startBox starts box-init as the box's PID 1, in its cgroup, with the
// box's ends of p and the files its config binds. On an error after the
// start it reaps what it started.
func (r *runner) startBox(ids *idLease, p *boxPipes) (*startedBox, error) {
	cfg, bindFiles, err := r.boxConfig()
	p.boxEnds = append(p.boxEnds, bindFiles...)
	if err != nil {
		return nil, err
	}
	cfg.CgroupNS = !r.cg.root.v2
	b := &startedBox{cfg: cfg, exited: make(chan struct{}), nsfd: -1, cgfd: -1}

	attr := boxProcAttr(ids.uid, ids.gid, r.cg.root.v2)
	if r.cg.root.v2 {
		if b.cgfd, err = r.cg.openFD(); err != nil {
			return nil, err
		}
		attr.UseCgroupFD, attr.CgroupFD = true, b.cgfd
	}
	r.cmd = &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{initArg0},
		Env:         []string{},
		Stdout:      p.outW,
		Stderr:      p.errW,
		ExtraFiles:  append([]*os.File{p.traceW, p.ctlR, p.statusW}, bindFiles...),
		SysProcAttr: attr,
	}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the box exits, not
		// the process: keep this goroutine on its thread until the box
		// is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := r.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		r.cmd.Wait()
		close(b.exited)
	}()
	if err := <-started; err != nil {
		b.closeFDs()
		return nil, fmt.Errorf("sandbox: start box-init: %w", err)
	}
	p.closeBoxEnds()
	if err := r.cg.enter(r.cmd.Process.Pid); err != nil {
		r.reap(b)
		return nil, err
	}
	b.nsfd, err = unix.Open(fmt.Sprintf("/proc/%d/ns/net", r.cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		r.reap(b)
		return nil, fmt.Errorf("sandbox: open the box's netns: %w", os.NewSyscallError("open", err))
	}
	return b, nil
}

// reap makes sure box-init has ended and been waited for, killing it if
// it has not, and closes what startBox opened for it.
func (r *runner) reap(b *startedBox) {
	select {
	case <-b.exited:
	default:
		r.kill(VerdictInternalError, "the sandbox failed")
		<-b.exited
	}
	b.closeFDs()
}

func (b *startedBox) closeFDs() {
	for _, fd := range []*int{&b.nsfd, &b.cgfd} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// outputs reads what the box writes: stdout and stderr into buffers, the
// trace to the spec's writer, each up to its limit.
type outputs struct {
	out, errOut, trace *cappedReader
	outBuf, errBuf     bytes.Buffer
	total              atomic.Int64 // stdout and stderr bytes, past the caps too
	readers            sync.WaitGroup
}

// readOutputs starts a reader on each of the box's output pipes. One
// past its limit kills the run (stderr after its grace).
func (r *runner) readOutputs(p *boxPipes) *outputs {
	o := &outputs{}
	o.out = newCappedReader(p.outR, r.lim.Output, &o.outBuf)
	o.errOut = newCappedReader(p.errR, r.lim.Output, &o.errBuf)
	traceTo := r.spec.Trace
	if traceTo == nil {
		traceTo = io.Discard
	}
	o.trace = newCappedReader(p.traceR, r.lim.Trace, traceTo)
	o.trace.failed = func(err error) {
		r.log.Error("sandbox trace write failed", "err", err)
		r.kill(VerdictInternalError, "the sandbox failed")
	}
	o.errOut.all = r.stderrSeen
	for _, c := range []struct {
		cr    *cappedReader
		name  string
		lim   int64
		count *atomic.Int64
	}{{o.out, "stdout", r.lim.Output, &o.total}, {o.errOut, "stderr", r.lim.Output, &o.total}, {o.trace, "trace", r.lim.Trace, nil}} {
		o.readers.Go(func() {
			c.cr.drain(c.count, func() {
				if c.cr == o.errOut {
					// Killed after stderrGrace, or by stderrSeen.
					r.stderrClosed.Do(func() { close(r.stderrOver) })
					return
				}
				r.kill(VerdictOutputLimit, fmt.Sprintf("%s exceeded %s", c.name, sizeString(c.lim)))
			})
		})
	}
	return o
}

// drained returns a channel closed once every reader has returned.
func (o *outputs) drained() <-chan struct{} {
	done := make(chan struct{})
	go func() { o.readers.Wait(); close(done) }()
	return done
}

// wait waits for the readers to reach the ends of their pipes, which they
// do once the box is gone. After 5 s it closes the pipes: someone outside
// the box holds a write end, a bug.
func (o *outputs) wait(p *boxPipes) {
	done := o.drained()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.outR.Close()
		p.errR.Close()
		p.traceR.Close()
		<-done
	}
}

// peerSet is the spec's peers, running in the box's network namespace.
// A nil peerSet has none.
type peerSet struct {
	ns     *NetNS
	cancel context.CancelFunc
	done   <-chan error
}

// stop stops the peers, if it has not been done.
func (ps *peerSet) stop() {
	if ps != nil {
		ps.cancel()
		ps.ns.close()
	}
}

// finish stops the peers once the program has ended and returns their
// error, or that they did not return.
func (ps *peerSet) finish() error {
	if ps == nil {
		return nil
	}
	// Cancel first, so that a peer blocked in Accept sees why its
	// listener closes.
	ps.stop()
	select {
	case err := <-ps.done:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("sandbox: peer did not return within 5s of the program's end")
	}
}

// setUp sends box-init its config and sees it through its setup, within
// setupTimeout: its network up, the peers started in it, then the
// go-ahead, the Landlock ABI it applied and the program's exec. It
// returns the peers, the ABI, and when the program was let go.
func (r *runner) setUp(ctx context.Context, p *boxPipes, b *startedBox, o *outputs) (peers *peerSet, landlock int, t0 time.Time, err error) {
	if err := writeConfig(p.ctlW, b.cfg); err != nil {
		return nil, 0, t0, fmt.Errorf("sandbox: send config: %w", err)
	}
	status := readStatus(p.statusR)
	setupCtx, cancelSetup := context.WithTimeout(ctx, setupTimeout)
	defer cancelSetup()
	// failed adds to a setup error how box-init ended and what it wrote
	// to stderr, which is where a crash of its own shows.
	failed := func(err error) error {
		select {
		case <-b.exited:
		case <-time.After(time.Second):
			r.kill(VerdictInternalError, "the sandbox failed")
			<-b.exited
		}
		stderr := "still open"
		select {
		case <-o.drained():
			stderr = strconv.Quote(clipText(o.errBuf.String(), 2048))
		case <-time.After(time.Second):
		}
		return fmt.Errorf("%w (box-init: %v; stderr: %s)", err, r.cmd.ProcessState, stderr)
	}
	if _, err := awaitStatus(setupCtx, status, msgNet); err != nil {
		return nil, 0, t0, failed(err)
	}
	if r.spec.Peers != nil {
		peerCtx, cancel := context.WithCancel(ctx)
		peers = &peerSet{ns: newNetNS(b.nsfd), cancel: cancel}
		peers.done = runPeers(peerCtx, peers.ns, r.spec.Peers)
		select {
		case <-peers.ns.ready:
		case <-setupCtx.Done():
			peers.stop()
			return nil, 0, t0, errors.New("sandbox: peers not ready within the setup timeout")
		}
	}
	// From here on the caller stops the peers.
	r.cpu0, _ = r.cg.cpuUsage()
	if _, err := p.ctlW.Write([]byte{goByte}); err != nil {
		return peers, 0, t0, fmt.Errorf("sandbox: start the program: %w", err)
	}
	t0 = time.Now()
	abiLine, err := awaitStatus(setupCtx, status, msgLandlock)
	if err != nil {
		return peers, 0, t0, failed(err)
	}
	landlock, _ = strconv.Atoi(abiLine)
	if _, err := awaitStatus(setupCtx, status, 0); err != nil {
		return peers, 0, t0, failed(err)
	}
	r.log.Debug("sandbox program started", "cgroup", r.cg.name, "landlock", landlock, "setup", time.Since(t0))
	return peers, landlock, t0, nil
}

// watch waits for box-init to exit, killing the run when it passes a
// limit (wall time from t0, CPU time, stderr's grace) or ctx is done, and
// returns ctx's error if that was why.
func (r *runner) watch(ctx context.Context, exited <-chan struct{}, t0 time.Time) (ctxErr error) {
	wall := time.NewTimer(r.lim.Wall - time.Since(t0))
	defer wall.Stop()
	tick := time.NewTicker(cpuPoll)
	defer tick.Stop()
	cancelled := ctx.Done()
	stderrOver := r.stderrOver
	var last grace
	for {
		select {
		case <-exited:
			return ctxErr
		case <-stderrOver:
			stderrOver = nil
			last.start(r.cg, VerdictOutputLimit, stderrExceeded(r.lim))
		case <-last.wallOver:
			r.kill(last.verdict, last.detail)
		case <-wall.C:
			// A crash's dump gets its grace to end in, so that the crash,
			// not the clock, is what the run is told it died of.
			if !r.crashed.Load() {
				r.kill(VerdictTimeLimit, "wall time exceeded "+r.lim.Wall.String())
			}
			last.start(r.cg, VerdictTimeLimit, "wall time exceeded "+r.lim.Wall.String())
		case <-tick.C:
			u, ok := r.cg.cpuUsage()
			if ok && u-r.cpu0 > r.lim.CPU {
				r.kill(VerdictTimeLimit, "CPU time exceeded "+r.lim.CPU.String())
			}
			if ok && last.cpuOver(u) {
				r.kill(last.verdict, last.detail)
			}
		case <-cancelled:
			ctxErr = ctx.Err()
			cancelled = nil
			r.kill(VerdictInternalError, "the server cancelled the run")
		}
	}
}

// result gathers the run's result once the box is gone and o has read
// everything, and decides its verdict.
func (r *runner) result(o *outputs, elapsed time.Duration, landlock int) *Result {
	res := &Result{
		Wall:        elapsed,
		PeakMemory:  r.cg.peakMemory(),
		Stdout:      o.outBuf.Bytes(),
		Stderr:      o.errBuf.Bytes(),
		OutputBytes: o.total.Load(),
		StderrHead:  r.stderr.head,
		StderrTail:  r.stderr.tail,
		StderrBytes: r.stderr.total,
		Crash:       r.stderr.crash.crash,
		TraceBytes:  o.trace.read,
		TraceCut:    o.trace.read > r.lim.Trace,
		Landlock:    landlock,
	}
	if u, ok := r.cg.cpuUsage(); ok {
		res.CPU = u - r.cpu0
	} else {
		res.CPU = r.cmd.ProcessState.UserTime() + r.cmd.ProcessState.SystemTime()
	}
	r.verdict(res, r.cg.oomKills(), r.cg.pidsRefused())
	return res
}

// stderrSeen sees every byte of stderr, and kills the run once stderr
// has gone stderrSlack bytes past its cap.
func (r *runner) stderrSeen(p []byte) {
	r.stderr.write(p)
	if r.stderr.crash.crash != "" {
		r.crashed.Store(true)
	}
	if r.stderr.total > r.lim.Output+stderrSlack {
		r.kill(VerdictOutputLimit, stderrExceeded(r.lim))
	}
}

// grace is the last stretch a run is given before it is killed: past
// stderr's cap, for the program's last words or a crash's dump, and past
// the wall time once a crash has begun, for the dump to end. It lasts
// stderrGrace of the run's CPU time, not of wall time, because a box the
// machine keeps off the CPU writes slowly however short its last words
// (2 MiB of log took over a second of wall time in a loaded CI run);
// stderrGraceWall bounds a program that trickles on using no CPU.
type grace struct {
	verdict  Verdict // the kill's, when the grace is over
	detail   string
	cpu0     time.Duration    // the run's CPU time when the grace began, if known
	wallOver <-chan time.Time // nil until the grace begins
}

// start begins the grace, unless it has begun already.
func (g *grace) start(cg *cgroup, v Verdict, detail string) {
	if g.wallOver != nil {
		return
	}
	g.verdict, g.detail = v, detail
	g.wallOver = time.After(stderrGraceWall)
	g.cpu0 = -1
	if u, ok := cg.cpuUsage(); ok {
		g.cpu0 = u
	}
}

// cpuOver reports whether the run, now at CPU time u, has used up its grace.
func (g *grace) cpuOver(u time.Duration) bool {
	return g.wallOver != nil && g.cpu0 >= 0 && u-g.cpu0 > stderrGrace
}

func stderrExceeded(lim Limits) string {
	return "stderr exceeded " + sizeString(lim.Output)
}

// verdict fills in res's verdict from how the program ended.
func (r *runner) verdict(res *Result, ooms, pidsRefused int64) {
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	res.ExitCode = ws.ExitStatus()
	if ws.Signaled() {
		res.Signal = unix.SignalName(ws.Signal())
	}
	r.mu.Lock()
	e := ending{status: ws, kill: r.killReason, killDetail: r.killDetail,
		crash: res.Crash, ooms: ooms, pidsRefused: pidsRefused, cpu: res.CPU}
	r.mu.Unlock()
	select {
	case <-r.stderrOver:
		e.stderrOver = true
	default:
	}
	res.Verdict, res.Reason = e.verdict(r.lim)
}

// ending is what is known of how a run ended.
type ending struct {
	status      syscall.WaitStatus
	kill        Verdict // why the sandbox killed the run, if it did
	killDetail  string
	crash       string // the first line of a Go crash found in stderr
	ooms        int64  // the memory limit's kills
	pidsRefused int64  // forks and clones the pids limit refused
	stderrOver  bool   // stderr passed its cap
	cpu         time.Duration
}

// verdict names how the run ended. A Go crash is a runtime error even
// when its dump overflowed stderr; overflowing stderr otherwise is the
// output limit, even when the program ended by itself within the grace.
// A time limit is not a crash, even when stderr shows one: in a box of
// many processes (a fork bomb's), the crash can be another process's.
func (e ending) verdict(lim Limits) (Verdict, string) {
	ws := e.status
	died := !(ws.Exited() && ws.ExitStatus() == 0)
	v, reason := VerdictOK, ""
	switch {
	case e.crash != "" && e.kill == VerdictOutputLimit:
		v, reason = VerdictRuntimeError, "crashed: "+e.crash
	case e.kill != "":
		v, reason = e.kill, e.killDetail
	case e.ooms > 0 && died:
		v, reason = VerdictMemoryLimit, "memory limit exceeded "+sizeString(lim.Memory)
	case e.crash != "" && died:
		v, reason = VerdictRuntimeError, "crashed: "+e.crash
	case e.stderrOver:
		v, reason = VerdictOutputLimit, stderrExceeded(lim)
	case ws.Signaled() && (ws.Signal() == syscall.SIGKILL || ws.Signal() == syscall.SIGXCPU) && e.cpu >= lim.CPU:
		v, reason = VerdictTimeLimit, "CPU time exceeded "+lim.CPU.String()
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS:
		v, reason = VerdictKilled, "killed by the sandbox: forbidden system call"
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
		v, reason = VerdictKilled, "killed by SIGKILL"
	case ws.Signaled():
		v, reason = VerdictRuntimeError, "killed by signal "+unix.SignalName(ws.Signal())
	case ws.ExitStatus() != 0:
		v, reason = VerdictRuntimeError, "exit status "+strconv.Itoa(ws.ExitStatus())
	}
	if v == VerdictRuntimeError && e.pidsRefused > 0 {
		reason += fmt.Sprintf("; the program hit the limit of %d processes/threads", lim.Pids)
	}
	return v, reason
}

// boxConfig builds what box-init is sent, and opens the binds: a root
// server clones each bound tree (open_tree) so that the box need not be
// able to walk the host path to it, only read what it binds.
func (r *runner) boxConfig() (*boxConfig, []*os.File, error) {
	s := r.spec
	cfg := &boxConfig{
		Path: s.Path, Args: s.Args, Env: s.Env, Dir: s.Dir, Files: s.Files,
		Tmpfs: r.lim.Tmpfs, FileSize: r.lim.FileSize, Pids: r.lim.Pids,
		CPU:      int64((r.lim.CPU+time.Second-1)/time.Second) + 1,
		RootSize: 1 << 20,
	}
	for _, f := range s.Files {
		if !strings.HasPrefix(path.Clean(f.Inside), boxTmp+"/") {
			cfg.RootSize += int64(len(f.Data)) + 4096
		}
	}
	var files []*os.File
	for i, b := range s.Binds {
		st, err := os.Stat(b.Host)
		if err != nil {
			return nil, files, fmt.Errorf("sandbox: bind: %w", err)
		}
		bb := boxBind{Inside: b.Inside, Writable: b.Writable, Dir: st.IsDir(), FD: -1}
		if os.Geteuid() != 0 {
			bb.Host = b.Host
			cfg.Binds = append(cfg.Binds, bb)
			continue
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, b.Host, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return nil, files, fmt.Errorf("sandbox: bind %s: %w", b.Host, os.NewSyscallError("open_tree", err))
		}
		files = append(files, os.NewFile(uintptr(fd), b.Host))
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: bindAttr(b.Writable)}); err != nil {
			return nil, files, fmt.Errorf("sandbox: bind %s: %w", b.Host, os.NewSyscallError("mount_setattr", err))
		}
		bb.FD = firstBind + i
		cfg.Binds = append(cfg.Binds, bb)
	}
	return cfg, files, nil
}

func writeConfig(w io.Writer, cfg *boxConfig) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint32(len(b))); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// statusMsg is one line from box-init; kind 0 means the pipe closed,
// which is the program's successful exec.
type statusMsg struct {
	kind byte
	text string
}

// clipText returns s, cut to its first n bytes if it is longer.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func readStatus(f *os.File) <-chan statusMsg {
	ch := make(chan statusMsg, 4)
	go func() {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				continue
			}
			ch <- statusMsg{line[0], line[1:]}
		}
		ch <- statusMsg{}
	}()
	return ch
}

// awaitStatus waits for box-init's next message and wants it to be of
// kind want; an error message, an early EOF or the deadline are errors.
func awaitStatus(ctx context.Context, ch <-chan statusMsg, want byte) (string, error) {
	select {
	case m := <-ch:
		switch {
		case m.kind == want:
			return m.text, nil
		case m.kind == msgError:
			return "", fmt.Errorf("sandbox: box setup: %s", m.text)
		case m.kind == 0:
			return "", errors.New("sandbox: box-init exited during setup (does main call sandbox.IsInit and InitMain first?)")
		}
		return "", fmt.Errorf("sandbox: box-init said %q, want %q", m.kind, want)
	case <-ctx.Done():
		return "", fmt.Errorf("sandbox: box setup: %w", ctx.Err())
	}
}

// cappedReader copies the first max bytes of a pipe to w and drains the
// rest, with one buffer of its own whatever the pipe carries.
type cappedReader struct {
	f      *os.File
	max    int64
	w      io.Writer
	all    func([]byte) // sees every byte read, kept or not
	failed func(error)  // told once when a Write to w fails; nil ignores it
	read   int64        // bytes read in all; safe to read once drain returns
}

func newCappedReader(f *os.File, max int64, w io.Writer) *cappedReader {
	return &cappedReader{f: f, max: max, w: w}
}

// drain reads f to its end, adding what it reads to total (if not nil).
// When more than max bytes have come it calls overflow once, which kills
// the run, and goes on reading until the writers are gone. After a failed
// Write it writes no more.
func (c *cappedReader) drain(total *atomic.Int64, overflow func()) {
	b := make([]byte, 64<<10)
	w := c.w
	for {
		k, err := c.f.Read(b)
		if k > 0 {
			if total != nil {
				total.Add(int64(k))
			}
			if c.all != nil {
				c.all(b[:k])
			}
			if room := c.max - c.read; room > 0 && w != nil {
				if _, werr := w.Write(b[:min(int64(k), room)]); werr != nil {
					w = nil
					if c.failed != nil {
						c.failed(werr)
					}
				}
			}
			if c.read <= c.max && c.read+int64(k) > c.max {
				overflow()
			}
			c.read += int64(k)
		}
		if err != nil {
			return
		}
	}
}

// sizeString prints a byte count for the student: "64 MiB".
func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
