/*
 * nop_sweep: the enginebench NOP sweep written on liburing, so that the
 * Go ring's cost per NOP can be compared with C in the same run.
 *
 * For each batch size B it does ops NOPs, B at a time: B io_uring_get_sqe
 * + io_uring_prep_nop, one io_uring_submit_and_wait(B), then it reaps all
 * B completions. It prints one line per batch size:
 *
 *     batch=<B> ns_per_op=<float> enters_per_op=<float>
 *
 * Usage: nop_sweep <setup-flags> <entries> <ops> <B>...
 *
 * The driver (bench/cmd/enginebench) passes the setup flags our Go ring
 * ended up with, so both rings are configured alike. Build:
 *     cc -O2 -o nop_sweep nop_sweep.c -luring
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* sweep does ops NOPs, batch at a time, and returns the number of
 * io_uring_enter calls it made, or -1 after printing an error. */
static long sweep(struct io_uring *ring, struct io_uring_cqe **cqes, int batch, long ops)
{
	long enters = 0;
	for (long done = 0; done < ops;) {
		int n = batch;
		if (ops - done < n)
			n = (int)(ops - done);
		for (int i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			if (!sqe) {
				fprintf(stderr, "nop_sweep: SQ full\n");
				return -1;
			}
			io_uring_prep_nop(sqe);
		}
		int ret = io_uring_submit_and_wait(ring, n);
		if (ret < 0) {
			fprintf(stderr, "nop_sweep: io_uring_submit_and_wait: %s\n", strerror(-ret));
			return -1;
		}
		enters++;
		for (int got = 0; got < n;) {
			unsigned k = io_uring_peek_batch_cqe(ring, cqes, n - got);
			for (unsigned i = 0; i < k; i++) {
				if (cqes[i]->res != 0) {
					fprintf(stderr, "nop_sweep: NOP res = %d, want 0\n", cqes[i]->res);
					return -1;
				}
			}
			io_uring_cq_advance(ring, k);
			got += (int)k;
			if (k == 0) {
				struct io_uring_cqe *cqe;
				ret = io_uring_wait_cqe_nr(ring, &cqe, n - got);
				if (ret < 0) {
					fprintf(stderr, "nop_sweep: io_uring_wait_cqe_nr: %s\n", strerror(-ret));
					return -1;
				}
				enters++;
			}
		}
		done += n;
	}
	return enters;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: nop_sweep <setup-flags> <entries> <ops> <batch>...\n");
		return 2;
	}
	unsigned flags = (unsigned)strtoul(argv[1], NULL, 0);
	unsigned entries = (unsigned)strtoul(argv[2], NULL, 0);
	long ops = strtol(argv[3], NULL, 0);

	struct io_uring ring;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	int ret = io_uring_queue_init_params(entries, &ring, &p);
	if (ret < 0) {
		fprintf(stderr, "nop_sweep: io_uring_queue_init_params(flags %#x): %s\n", flags, strerror(-ret));
		return 1;
	}
	struct io_uring_cqe **cqes = calloc(entries, sizeof(*cqes));
	if (!cqes)
		return 1;

	/* Warm up, as the Go sweep does. */
	if (sweep(&ring, cqes, 1, ops / 8) < 0)
		return 1;
	for (int a = 4; a < argc; a++) {
		int batch = atoi(argv[a]);
		if (batch <= 0 || (unsigned)batch > entries) {
			fprintf(stderr, "nop_sweep: batch %d out of range 1..%u\n", batch, entries);
			return 2;
		}
		double t0 = now_ns();
		long enters = sweep(&ring, cqes, batch, ops);
		double t1 = now_ns();
		if (enters < 0)
			return 1;
		printf("batch=%d ns_per_op=%.3f enters_per_op=%.6f\n", batch, (t1 - t0) / (double)ops,
		       (double)enters / (double)ops);
	}
	io_uring_queue_exit(&ring);
	free(cqes);
	return 0;
}
