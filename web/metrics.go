package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/queue"
)

// metrics are what /metrics exposes to Prometheus, on a registry of the
// server's own (several servers may live in one test binary).
type metrics struct {
	reg *prometheus.Registry

	runs       *prometheus.CounterVec   // graded runs by lane and verdict
	wait       *prometheus.HistogramVec // queued until a worker takes it, by lane
	grade      *prometheus.HistogramVec // taken until recorded, by lane
	build      prometheus.Histogram     // one submission's build
	sandbox    prometheus.Histogram     // one sandboxed run (a scenario on a backend)
	traceBytes prometheus.Counter       // trace bytes handlers wrote
	traceCut   prometheus.Counter       // runs stopped at their exercise's trace cap
	viewers    prometheus.Gauge         // websockets open
	piped      prometheus.Counter       // replays piped from the store to one viewer
	refused    prometheus.Counter       // connections closed at once for a cap
	evicted    prometheus.Counter       // idle connections closed to make room
}

// laneBuckets suit waits and grades: a tenth of a second to five minutes.
var laneBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}

func newMetrics(x *runner) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "asynclab_runs_total",
			Help: "Runs graded and recorded, by queue lane and verdict."}, []string{"lane", "verdict"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "asynclab_queue_wait_seconds",
			Help: "Time from a run's submission until a worker takes it, by lane.", Buckets: laneBuckets}, []string{"lane"}),
		grade: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "asynclab_grade_seconds",
			Help: "Time from a worker taking a run until its result is recorded, by lane.", Buckets: laneBuckets}, []string{"lane"}),
		build: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "asynclab_build_seconds",
			Help: "Time to build one submission.", Buckets: []float64{0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60}}),
		sandbox: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "asynclab_sandbox_run_seconds",
			Help: "Wall time of one sandboxed run: a scenario on a backend.", Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 16}}),
		traceBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "asynclab_trace_bytes_total",
			Help: "Trace bytes the handlers wrote, counted past the caps too."}),
		traceCut: prometheus.NewCounter(prometheus.CounterOpts{Name: "asynclab_trace_cut_total",
			Help: "Sandboxed runs stopped at their exercise's trace cap."}),
		viewers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "asynclab_live_viewers",
			Help: "Websockets open to live or replayed runs."}),
		piped: prometheus.NewCounter(prometheus.CounterOpts{Name: "asynclab_replays_piped_total",
			Help: "Replays of recordings too large to share, read from the store for one viewer as it watches."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "asynclab_connections_refused_total",
			Help: "Connections closed at once: their address had too many open, or the server as many as it may and none idle."}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "asynclab_connections_evicted_total",
			Help: "Idle connections closed to make room for a new one at the server's cap."}),
	}
	m.reg.MustRegister(m.runs, m.wait, m.grade, m.build, m.sandbox, m.traceBytes, m.traceCut, m.viewers, m.piped, m.refused, m.evicted,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		&queueCollector{x: x}, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "asynclab_sandbox_slots_busy",
			Help: "Sandboxes running handlers now, of asynclab_sandbox_slots."}, func() float64 {
			busy, _ := slotsOf(x.grader())
			return float64(busy)
		}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "asynclab_sandbox_slots",
			Help: "Sandboxes that may run handlers at once."}, func() float64 {
			_, total := slotsOf(x.grader())
			return float64(total)
		}))
	return m
}

// slotsOf reports the sandbox slots of g, if it says.
func slotsOf(g Grader) (busy, total int) {
	if s, ok := g.(interface{ Slots() (int, int) }); ok {
		return s.Slots()
	}
	return 0, 0
}

// handler serves the metrics in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// recorded counts a run whose result was recorded.
func (m *metrics) recorded(lane queue.Lane, res *grading.Result) {
	m.runs.WithLabelValues(string(lane), string(res.Verdict)).Inc()
	if res.Build > 0 {
		m.build.Observe(res.Build.Seconds())
	}
	for _, r := range res.Runs {
		m.sandbox.Observe(r.Wall.Seconds())
		m.traceBytes.Add(float64(r.TraceBytes))
		if r.TraceCut != "" {
			m.traceCut.Inc()
		}
	}
}

var (
	queueDepth = prometheus.NewDesc("asynclab_queue_depth",
		"Runs waiting in a lane: in line, or (waiting) behind the student's own earlier submission.", []string{"lane", "state"}, nil)
	queueRunning = prometheus.NewDesc("asynclab_queue_running",
		"Runs of a lane that workers are grading now, on every worker of the queue.", []string{"lane"}, nil)
)

// queueCollector reads the queue's lanes when scraped.
type queueCollector struct{ x *runner }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepth
	ch <- queueRunning
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if c.x.queue == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.x.ctx, 2*time.Second)
	defer cancel()
	for _, lane := range []queue.Lane{queue.Practice, queue.Submission} {
		line, err := c.x.queue.Line(ctx, lane)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(queueDepth, err)
			continue
		}
		var inLine, waiting, running int
		for _, p := range line {
			switch {
			case p.Running:
				running++
			case p.Waiting:
				waiting++
			default:
				inLine++
			}
		}
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(inLine), string(lane), "in_line")
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(waiting), string(lane), "waiting")
		ch <- prometheus.MustNewConstMetric(queueRunning, prometheus.GaugeValue, float64(running), string(lane))
	}
}
