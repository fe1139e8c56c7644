package engine

// taskQueue is a FIFO ring of tasks that grows by doubling. Pushing and
// popping do not allocate once it has grown to the working size.
type taskQueue struct {
	buf        []task
	head, size int
}

func (q *taskQueue) len() int { return q.size }

func (q *taskQueue) push(t task) {
	if q.size == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.size)&(len(q.buf)-1)] = t
	q.size++
}

func (q *taskQueue) pop() task {
	t := q.buf[q.head]
	q.buf[q.head] = task{} // drop the closure reference
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.size--
	return t
}

func (q *taskQueue) grow() {
	n := len(q.buf) * 2
	if n == 0 {
		n = 64
	}
	buf := make([]task, n)
	for i := 0; i < q.size; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}
