package enginebench

import (
	"math/bits"
	"time"
)

// histSub is the number of linear sub-buckets per power of two: 64 gives
// values within about 1.6% of the truth.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits + 1) * histSub
)

// Hist is a log-linear latency histogram with a fixed array of buckets, so
// recording never allocates. The zero value is empty and ready to use. It
// is not safe for concurrent use.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - histSubBits
	return (shift+1)*histSub + int((v>>uint(shift))&(histSub-1))
}

// histLow returns the smallest value that falls into bucket i.
func histLow(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	return (histSub | uint64(i%histSub)) << uint(shift)
}

// Record adds one observation.
func (h *Hist) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[histIndex(v)]++
	h.n++
	h.max = max(h.max, v)
}

// Count returns the number of observations.
func (h *Hist) Count() uint64 { return h.n }

// Reset empties the histogram.
func (h *Hist) Reset() { *h = Hist{} }

// Quantile returns the value below which a fraction q of the observations
// fall, as the middle of its bucket. It returns 0 for an empty histogram.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo := histLow(i)
			if i+1 >= histBuckets {
				return time.Duration(h.max)
			}
			hi := histLow(i + 1)
			return time.Duration(min(lo+(hi-lo)/2, h.max))
		}
	}
	return time.Duration(h.max)
}
