package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// parentName is the cgroup under which every run's cgroup lives, in each
// hierarchy; runPrefix starts the name of a run's cgroup, which goes on
// with the owning server's pid and start time, so that [Cleanup] can tell
// a crashed server's runs from a live one's.
const (
	parentName = "asynclab"
	runPrefix  = "run-"
)

// cgroupRoot is where the runs' cgroups are made: one directory under
// cgroup v2, or one per controller hierarchy under v1.
type cgroupRoot struct {
	v2 bool
	// v2: the parent directory and the controllers enabled for its
	// children. Production requires memory, pids and cpu; a test may
	// build a root with fewer to exercise the v2 mechanics.
	dir   string
	ctrls map[string]bool
	// v1: controller name → parent directory in that controller's
	// hierarchy. memory and pids are required; cpu, cpuacct and freezer
	// are used when mounted. Co-mounted controllers share a directory.
	v1 map[string]string
}

// v1Controllers are the cgroup v1 controllers a run uses.
var v1Controllers = []string{"memory", "pids", "cpu", "cpuacct", "freezer"}

// v2Controllers are the cgroup v2 controllers production requires.
var v2Controllers = []string{"memory", "pids", "cpu"}

// String describes r for logs and the doctor.
func (r *cgroupRoot) String() string {
	if r.v2 {
		var c []string
		for _, k := range v2Controllers {
			if r.ctrls[k] {
				c = append(c, k)
			}
		}
		return fmt.Sprintf("cgroup v2 at %s (%s)", r.dir, strings.Join(c, " "))
	}
	var c []string
	for _, k := range v1Controllers {
		if _, ok := r.v1[k]; ok {
			c = append(c, k)
		}
	}
	return fmt.Sprintf("cgroup v1 under %s (%s)", filepath.Dir(filepath.Dir(r.v1["memory"])), strings.Join(c, " "))
}

// mount is one line of /proc/self/mountinfo that matters here.
type mount struct {
	point, fstype string
	super         []string // super options: the v1 controllers
}

func readMounts() ([]mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(b), nil
}

// parseMountinfo returns the cgroup and cgroup2 mounts of a mountinfo file.
func parseMountinfo(b []byte) []mount {
	var ms []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		ms = append(ms, mount{point: unescapeMount(f[4]), fstype: g[0], super: strings.Split(g[2], ",")})
	}
	return ms
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroups parses /proc/self/cgroup: "0" is the v2 path, other keys are
// v1 controller names.
func ownCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	return parseProcCgroup(b), nil
}

func parseProcCgroup(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		// 4:memory:/a/b or 0::/a/b or 1:name=systemd:/
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			m["0"] = f[2]
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			m[c] = f[2]
		}
	}
	return m
}

// findCgroups picks cgroup v2 when this process's v2 cgroup offers memory,
// pids and cpu, else cgroup v1 when memory and pids hierarchies are
// mounted. It creates the parent cgroups and makes sure they are
// writable; on v2 it may move this process into a leaf (see setupV2).
func findCgroups() (*cgroupRoot, error) {
	ms, err := readMounts()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	var v2err error
	for _, m := range ms {
		if m.fstype != "cgroup2" {
			continue
		}
		dir := filepath.Join(m.point, own["0"])
		avail := readWords(filepath.Join(dir, "cgroup.controllers"))
		var missing []string
		for _, c := range v2Controllers {
			if !slices.Contains(avail, c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			v2err = fmt.Errorf("cgroup v2 at %s lacks the %s controllers", dir, strings.Join(missing, ", "))
			continue
		}
		r, err := setupV2(dir, v2Controllers)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	r := &cgroupRoot{v1: map[string]string{}}
	for _, m := range ms {
		if m.fstype != "cgroup" {
			continue
		}
		for _, c := range v1Controllers {
			if slices.Contains(m.super, c) {
				r.v1[c] = filepath.Join(m.point, parentName)
			}
		}
	}
	if r.v1["memory"] == "" || r.v1["pids"] == "" {
		if v2err == nil {
			v2err = errors.New("no cgroup v2 mount")
		}
		return nil, fmt.Errorf("no usable cgroups: %v, and no cgroup v1 memory and pids hierarchies", v2err)
	}
	for _, dir := range r.v1dirs() {
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup v1: %w", err)
		}
	}
	return r, nil
}

// v1dirs returns r's v1 parent (or, for a run, leaf) directories without
// the duplicates of co-mounted controllers.
func (r *cgroupRoot) v1dirs() []string {
	var ds []string
	for _, c := range v1Controllers {
		if d, ok := r.v1[c]; ok && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	return ds
}

// setupV2 prepares dir/asynclab with ctrls enabled for its children. The
// no-internal-process rule forbids enabling controllers below a non-root
// cgroup that has processes; when dir holds only this process, it moves
// itself into dir/server first, as a systemd service with Delegate=yes
// is expected to.
func setupV2(dir string, ctrls []string) (*cgroupRoot, error) {
	enable := func(d string) error {
		var b strings.Builder
		have := readWords(filepath.Join(d, "cgroup.subtree_control"))
		for _, c := range ctrls {
			if !slices.Contains(have, c) {
				b.WriteString(" +" + c)
			}
		}
		if b.Len() == 0 {
			return nil
		}
		return writeFile(filepath.Join(d, "cgroup.subtree_control"), strings.TrimSpace(b.String()))
	}
	if err := enable(dir); errors.Is(err, unix.EBUSY) {
		procs, _ := readPids(filepath.Join(dir, "cgroup.procs"))
		if len(procs) != 1 || procs[0] != os.Getpid() {
			return nil, fmt.Errorf("cgroup v2: %s has other processes; run the server in a delegated cgroup of its own (systemd Delegate=yes)", dir)
		}
		leaf := filepath.Join(dir, "server")
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
		if err := writeFile(filepath.Join(leaf, "cgroup.procs"), "0"); err != nil {
			return nil, fmt.Errorf("cgroup v2: move the server into a leaf: %w", err)
		}
		if err := enable(dir); err != nil {
			return nil, fmt.Errorf("cgroup v2: enable controllers in %s: %w", dir, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("cgroup v2: enable controllers in %s: %w", dir, err)
	}
	parent := filepath.Join(dir, parentName)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if err := enable(parent); err != nil {
		return nil, fmt.Errorf("cgroup v2: enable controllers in %s: %w", parent, err)
	}
	r := &cgroupRoot{v2: true, dir: parent, ctrls: map[string]bool{}}
	for _, c := range ctrls {
		r.ctrls[c] = true
	}
	return r, nil
}

// parents returns r's directories, one per hierarchy: where the runs'
// cgroups are made.
func (r *cgroupRoot) parents() []string {
	if r.v2 {
		return []string{r.dir}
	}
	return r.v1dirs()
}

// run returns the run cgroup name under r; it neither creates nor checks
// its directories.
func (r *cgroupRoot) run(name string) *cgroup {
	c := &cgroup{root: r, name: name}
	if r.v2 {
		c.dir = filepath.Join(r.dir, name)
		return c
	}
	c.v1 = map[string]string{}
	for ctrl, parent := range r.v1 {
		c.v1[ctrl] = filepath.Join(parent, name)
	}
	return c
}

// cgroup is one run's cgroup.
type cgroup struct {
	root *cgroupRoot
	name string
	dir  string            // v2
	v1   map[string]string // v1: controller → leaf directory
}

// create makes the run cgroup name under r and writes lim's limits: the
// memory limit without swap, the pids limit and one CPU's bandwidth.
func (r *cgroupRoot) create(name string, lim Limits) (*cgroup, error) {
	c := r.run(name)
	mem := strconv.FormatInt(lim.Memory, 10)
	pids := strconv.Itoa(lim.Pids)
	if r.v2 {
		if err := os.Mkdir(c.dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		var ws [][2]string
		if r.ctrls["memory"] {
			ws = append(ws, [2]string{"memory.max", mem}, [2]string{"memory.swap.max", "0"}, [2]string{"memory.oom.group", "1"})
		}
		if r.ctrls["pids"] {
			ws = append(ws, [2]string{"pids.max", pids})
		}
		if r.ctrls["cpu"] {
			ws = append(ws, [2]string{"cpu.max", "100000 100000"})
		}
		for _, w := range ws {
			// memory.swap.max is absent without swap accounting; nothing
			// to limit then.
			if err := writeFile(filepath.Join(c.dir, w[0]), w[1]); err != nil && !(w[0] == "memory.swap.max" && errors.Is(err, os.ErrNotExist)) {
				c.remove()
				return nil, fmt.Errorf("cgroup: %w", err)
			}
		}
		return c, nil
	}
	for _, d := range c.dirs() {
		if err := os.Mkdir(d, 0o755); err != nil {
			c.remove()
			return nil, fmt.Errorf("cgroup: %w", err)
		}
	}
	ws := [][3]string{
		{"memory", "memory.limit_in_bytes", mem},
		{"memory", "memory.memsw.limit_in_bytes", mem}, // absent without swap accounting
		{"memory", "memory.swappiness", "0"},
		{"pids", "pids.max", pids},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.cfs_quota_us", "100000"},
	}
	for _, w := range ws {
		d, ok := c.v1[w[0]]
		if !ok {
			continue
		}
		err := writeFile(filepath.Join(d, w[1]), w[2])
		if err != nil && (w[1] == "memory.limit_in_bytes" || w[1] == "pids.max") {
			c.remove()
			return nil, fmt.Errorf("cgroup: %w", err)
		}
	}
	return c, nil
}

// dirs returns the run's directories, one per hierarchy.
func (c *cgroup) dirs() []string {
	if c.root.v2 {
		return []string{c.dir}
	}
	var ds []string
	for _, ctrl := range v1Controllers {
		if d, ok := c.v1[ctrl]; ok && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	return ds
}

// openFD opens the v2 directory for clone3's CLONE_INTO_CGROUP.
func (c *cgroup) openFD() (int, error) {
	fd, err := unix.Open(c.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("open cgroup", err)
	}
	return fd, nil
}

// enter moves pid into the run's v1 cgroups; v2 runs are born in theirs.
func (c *cgroup) enter(pid int) error {
	if c.root.v2 {
		return nil
	}
	for _, d := range c.dirs() {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroup: enter: %w", err)
		}
	}
	return nil
}

// procsFile is the cgroup.procs that lists every process of the run.
func (c *cgroup) procsFile() string {
	if c.root.v2 {
		return filepath.Join(c.dir, "cgroup.procs")
	}
	return filepath.Join(c.v1["pids"], "cgroup.procs")
}

// cpuUsage returns the CPU time the run's processes have used.
func (c *cgroup) cpuUsage() (time.Duration, bool) {
	if c.root.v2 {
		v, ok := readKey(filepath.Join(c.dir, "cpu.stat"), "usage_usec")
		return time.Duration(v) * time.Microsecond, ok
	}
	d, ok := c.v1["cpuacct"]
	if !ok {
		return 0, false
	}
	v, err := readInt(filepath.Join(d, "cpuacct.usage"))
	return time.Duration(v), err == nil
}

// peakMemory returns the run's memory high-water mark in bytes.
func (c *cgroup) peakMemory() int64 {
	if c.root.v2 {
		v, _ := readInt(filepath.Join(c.dir, "memory.peak"))
		return v
	}
	v, _ := readInt(filepath.Join(c.v1["memory"], "memory.max_usage_in_bytes"))
	return v
}

// oomKills returns how many processes the memory cgroup's OOM killer has
// killed.
func (c *cgroup) oomKills() int64 {
	if c.root.v2 {
		v, _ := readKey(filepath.Join(c.dir, "memory.events"), "oom_kill")
		return v
	}
	v, _ := readKey(filepath.Join(c.v1["memory"], "memory.oom_control"), "oom_kill")
	return v
}

// pidsRefused returns how many forks and clones the pids limit refused
// (the "max" count of pids.events, which v1's pids controller has too).
func (c *cgroup) pidsRefused() int64 {
	var d string
	switch {
	case c.root.v2 && c.root.ctrls["pids"]:
		d = c.dir
	case !c.root.v2:
		d = c.v1["pids"]
	default:
		return 0
	}
	v, _ := readKey(filepath.Join(d, "pids.events"), "max")
	return v
}

// kill kills every process in the run and waits until none is left. v2
// has cgroup.kill; v1 freezes the cgroup (when the freezer is mounted) so
// that nothing can fork while the listed processes are killed, and
// repeats until cgroup.procs is empty.
func (c *cgroup) kill() error {
	deadline := time.Now().Add(10 * time.Second)
	if c.root.v2 {
		if err := writeFile(filepath.Join(c.dir, "cgroup.kill"), "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cgroup: kill: %w", err)
		}
	}
	for {
		frozen := c.freeze(true)
		pids, err := readPids(c.procsFile())
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("cgroup: kill: %w", err)
		}
		for _, p := range pids {
			unix.Kill(p, unix.SIGKILL)
		}
		if frozen {
			c.freeze(false)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: %d processes survive SIGKILL", len(pids))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freeze freezes (or thaws) the run's v1 freezer cgroup and reports
// whether it did. v2 needs no freezing: cgroup.kill is atomic.
func (c *cgroup) freeze(on bool) bool {
	if c.root.v2 {
		return false
	}
	d, ok := c.v1["freezer"]
	if !ok {
		return false
	}
	state := "THAWED"
	if on {
		state = "FROZEN"
	}
	if writeFile(filepath.Join(d, "freezer.state"), state) != nil {
		return false
	}
	if !on {
		return true
	}
	for i := 0; i < 200; i++ {
		b, err := os.ReadFile(filepath.Join(d, "freezer.state"))
		if err != nil || strings.TrimSpace(string(b)) == "FROZEN" {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// remove kills what is left of the run and removes its cgroups.
func (c *cgroup) remove() error {
	err := c.kill()
	for _, d := range c.dirs() {
		if e := rmdirRetry(d); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// rmdirRetry removes a cgroup directory, retrying while the kernel still
// counts exiting tasks in it.
func rmdirRetry(d string) error {
	var err error
	for i := 0; i < 200; i++ {
		err = unix.Rmdir(d)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("cgroup: remove %s: %w", d, err)
}

// runName names a run's cgroup after its server (pid and start time) and
// a sequence number.
func runName(owner procID, seq uint64) string {
	return fmt.Sprintf("%s%d-%d-%d", runPrefix, owner.pid, owner.start, seq)
}

// parseRunName returns the server that owns a run's cgroup.
func parseRunName(name string) (procID, bool) {
	rest, ok := strings.CutPrefix(name, runPrefix)
	if !ok {
		return procID{}, false
	}
	f := strings.Split(rest, "-")
	if len(f) != 3 {
		return procID{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return procID{}, false
	}
	return procID{pid, start}, true
}

// cleanStale kills and removes the run cgroups whose server is gone (it
// crashed or was killed mid-run). Runs of live servers, this one
// included, are left alone. It returns how many it removed.
func (r *cgroupRoot) cleanStale() (int, error) {
	seen := map[string]bool{}
	var errs []error
	n := 0
	for _, p := range r.parents() {
		ents, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			owner, ok := parseRunName(e.Name())
			if !e.IsDir() || !ok || seen[e.Name()] || owner.alive() {
				continue
			}
			seen[e.Name()] = true
			if err := r.run(e.Name()).remove(); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// procID identifies a process across pid reuse.
type procID struct {
	pid   int
	start uint64 // clock ticks after boot, field 22 of /proc/pid/stat
}

func procIDOf(pid int) (procID, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procID{}, false
	}
	// The command name may hold spaces and parentheses; fields resume
	// after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procID{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procID{}, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procID{}, false
	}
	return procID{pid, start}, true
}

// alive reports whether the process p names still runs.
func (p procID) alive() bool {
	q, ok := procIDOf(p.pid)
	return ok && q.start == p.start
}

func writeFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readWords(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return -1, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// readKey reads "key value" from a flat-keyed cgroup file.
func readKey(path, key string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func readPids(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ps []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			ps = append(ps, p)
		}
	}
	return ps, nil
}
