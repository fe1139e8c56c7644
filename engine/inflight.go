package engine

// inflightTable maps op ids to ops while they are in the kernel. An id is a
// slot index and a generation (slot<<32 | gen), so a late completion for a
// reused slot is recognised and ignored. The table's reference is also what
// keeps each op's buffers alive until its completion arrives.
type inflightTable struct {
	ops  []*Op
	gens []uint32
	free []uint32
	n    int
}

func (t *inflightTable) add(op *Op) uint64 {
	var slot uint32
	if k := len(t.free); k > 0 {
		slot = t.free[k-1]
		t.free = t.free[:k-1]
	} else {
		slot = uint32(len(t.ops))
		t.ops = append(t.ops, nil)
		t.gens = append(t.gens, 0)
	}
	t.gens[slot]++
	if t.gens[slot] == 0 {
		t.gens[slot] = 1 // never hand out id 0
	}
	t.ops[slot] = op
	t.n++
	return uint64(slot)<<32 | uint64(t.gens[slot])
}

// get returns the op with id, or nil if the id is stale or unknown.
func (t *inflightTable) get(id uint64) *Op {
	slot, gen := uint32(id>>32), uint32(id)
	if int(slot) >= len(t.ops) || t.gens[slot] != gen {
		return nil
	}
	return t.ops[slot]
}

func (t *inflightTable) remove(id uint64) {
	slot, gen := uint32(id>>32), uint32(id)
	if int(slot) >= len(t.ops) || t.gens[slot] != gen || t.ops[slot] == nil {
		return
	}
	t.ops[slot] = nil
	t.free = append(t.free, slot)
	t.n--
}

func (t *inflightTable) len() int { return t.n }

// each calls fn for every op still in the table.
func (t *inflightTable) each(fn func(*Op)) {
	for _, op := range t.ops {
		if op != nil {
			fn(op)
		}
	}
}
